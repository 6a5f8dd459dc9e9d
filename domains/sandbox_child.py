"""The sandbox child's bootstrap: isolate itself, limit itself, report, then run the program.

This is what runs in the child process that :func:`mdrl.domains.sandbox.run_program`
starts (``python -S -B -c LAUNCHER <modules> CONFIG``): :data:`LAUNCHER` loads
:mod:`~mdrl.domains.sandbox_linux`, :mod:`~mdrl.domains.sandbox_root` and this module from
their cached bytecode (written when the scorer imported them, so a run compiles nothing)
and calls :func:`boot`. Standard library only, and small modules, so a run starts quickly;
the scorer imports this module too, but nothing here runs at import.

The order of :func:`boot`'s steps is the security design (docs/sandbox.md): the program
arrives before anything else happens (``nodump`` first, so a process of the same uid cannot
read it through /proc), the namespaces come before the private root, the rlimits before
the uid change, the uid change before ``no_new_privs``, and the seccomp filter last, just
before the program runs.
"""

from __future__ import annotations

import json
import os
import signal
import sys

from .sandbox_linux import (
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWUSER,
    MS_PRIVATE,
    MS_REC,
    PR_SET_DUMPABLE,
    PR_SET_NO_NEW_PRIVS,
    PR_SET_PDEATHSIG,
    SECCOMP_DENIED,
    drop_caps,
    libc,
    mount,
    prctl,
    seccomp_deny,
    unshare,
)
from .sandbox_root import build_root, python_readable_by_others

TOKEN_ENV = "MDRL_SANDBOX_TOKEN"  # marks every process of a run, for the sweep afterwards

# The child's modules, in load order (each imports only those before it).
CHILD_MODULES = ("sandbox_linux", "sandbox_root", "sandbox_child")

# Loads CHILD_MODULES from their cached bytecode under their package names (relative imports
# resolve among them), takes them out of sys.modules again (the program sees none of the
# bootstrap, as when the bootstrap was one file run as __main__) and boots with the config.
LAUNCHER = (
    "import os, sys, _frozen_importlib_external as e\n"
    "*paths, cfg = sys.argv[1:]\n"
    # The project's folder is never on the child's sys.path (no project module is importable
    # by the program); boot() replaces sys.path with the interpreter's own folders as well.
    "sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != os.path.dirname(paths[0])]\n"
    "for p in paths:\n"
    "    n = 'mdrl.domains.' + os.path.basename(p)[:-3]\n"
    "    m = sys.modules[n] = type(sys)(n)\n"
    "    m.__file__, m.__package__ = p, 'mdrl.domains'\n"
    "    exec(e.SourceFileLoader(n, p).get_code(n), m.__dict__)\n"
    "for p in paths:\n"
    "    del sys.modules['mdrl.domains.' + os.path.basename(p)[:-3]]\n"
    "m.boot(cfg)\n"
)


def child_argv(cfg: dict) -> list[str]:
    """The command line that starts a sandbox child with ``cfg``."""
    here = os.path.dirname(os.path.abspath(__file__))
    paths = [os.path.join(here, name + ".py") for name in CHILD_MODULES]
    return [sys.executable, "-S", "-B", "-c", LAUNCHER, *paths, json.dumps(cfg)]


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


def _read_program(cfg: dict) -> tuple[bytes, bytes]:
    """The guard's and the program's text from stdin (non-dumpable first, if asked)."""
    if cfg.get("nodump"):
        # before anything arrives on stdin: a process of the same uid cannot open our
        # descriptors or memory through /proc, nor ptrace us (the test side of the code domain)
        try:
            prctl(PR_SET_DUMPABLE, 0)
        except OSError:
            pass
    guard_src = _read_exact(0, int(cfg.get("guard_len") or 0))
    src = _read_exact(0, int(cfg["src_len"]))
    return guard_src, src


def _die_with_scorer(cfg: dict) -> None:
    """A worker killed for its item timeout leaves nothing behind."""
    if not sys.platform.startswith("linux"):
        return
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass
    if os.getppid() != int(cfg["parent"]):
        os._exit(1)  # the scorer is already gone


def _enter_namespaces(cfg: dict, info: dict) -> int:
    """Unshare what the kernel allows; returns the CLONE_* flags obtained."""
    flags = 0
    if cfg["isolation"] == "userns" or os.geteuid() != 0:
        uid, gid = os.geteuid(), os.getegid()
        try:
            unshare(CLONE_NEWUSER)
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
            unshare(flag)
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


def _become_pid_init(info_fd: int) -> None:
    """Fork into the new pid namespace: the parent mirrors its init (never returns), the
    child is init and goes on."""
    pid = os.fork()
    if pid:
        os.close(info_fd)
        _mirror(pid)
    # the first child is init of the new namespace; die with the process outside it
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


def _enter_root(cfg: dict, flags: int, info: dict, uid: int | None, gid: int | None) -> None:
    """The private root where a mount namespace allows it, else the plain work dir."""
    if flags & CLONE_NEWNS:
        try:
            mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we mount leaks back out
            build_root(cfg, bool(flags & CLONE_NEWPID), uid, gid)
            info["fs"] = "private root"
        except OSError as exc:
            info["notes"].append(f"private root failed ({exc})")
            libc().umount2(cfg["workdir"].encode(), 2)  # MNT_DETACH: back to the plain work dir
    if info["fs"] == "host":
        os.chdir(cfg["workdir"])


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


def _drop_privileges(cfg: dict, flags: int, info: dict, drop: bool) -> None:
    """As root: the run's own uid (or, under a user namespace, no capabilities); then
    ``no_new_privs`` and the death signal again (a uid change clears it)."""
    if drop and info["fs"] == "host" and not python_readable_by_others(cfg["python_dirs"]):
        drop = False
        info["notes"].append("kept uid 0: the interpreter is not readable by other users and there is no private root")
    if drop:
        uid, gid = cfg["uid"], cfg["gid"]
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)  # from root to an unprivileged uid: all capabilities go
        info["uid"] = uid
    elif flags & CLONE_NEWUSER:
        try:
            drop_caps()
        except OSError as exc:
            info["notes"].append(f"capabilities kept ({exc})")
    info["root"] = os.geteuid() == 0 and not flags & CLONE_NEWUSER
    for option, value in ((PR_SET_NO_NEW_PRIVS, 1), (PR_SET_PDEATHSIG, signal.SIGKILL)):
        try:
            prctl(option, value)  # the death signal is cleared by a uid change: set it again
        except OSError:
            pass


def _block_sockets() -> None:
    """Without a network namespace, at least refuse to create sockets from Python."""
    import socket

    class NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            raise PermissionError("network access is disabled in the sandbox")

    socket.socket = NoSocket  # type: ignore[misc]
    socket.SocketType = NoSocket  # type: ignore[misc]


def _close_side_channels(cfg: dict, flags: int, info: dict) -> None:
    """No sockets without a network namespace; the seccomp filter on memory no rlimit counts."""
    if not flags & CLONE_NEWNET:
        _block_sockets()
    info["memory"].append(f"rlimit_nofile={int(cfg.get('nofile') or 256)}")
    if info["fs"] == "private root":
        info["memory"].append(f"private tmpfs {int(cfg['tmpfs_mb'])} MiB, /dev/shm 1 MiB")
    if sys.platform.startswith("linux") and cfg.get("seccomp", True):
        why = seccomp_deny(SECCOMP_DENIED)
        if why is None:
            info["memory"].append("seccomp: " + ",".join(SECCOMP_DENIED) + " denied")
        else:
            info["notes"].append(f"no seccomp filter ({why})")


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
        exec(compile(guard_src, "<guard>", "exec"), scope)  # noqa: S102 - the guard, sent by the scorer
        scope["reliability_guard"]()
    try:
        exec(compile(src, "<program>", "exec"), main.__dict__)  # noqa: S102 - running the program is the job
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - print it like the interpreter, minus our frame
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next if exc.__traceback__ else None)
        sys.stderr.flush()
        sys.exit(1)


def boot(cfg_text: str) -> None:
    """The sandbox child: isolate, limit, report what was obtained, run the program."""
    cfg = json.loads(cfg_text)
    sys.path[:] = [p for p in cfg["sys_path"]]  # -S skipped site; no .pth hooks, no user site
    guard_src, src = _read_program(cfg)
    info_fd = int(cfg["info_fd"])
    info: dict = {"namespaces": [], "uid": None, "fs": "host", "notes": [], "memory": ["rlimit_as"]}
    os.umask(0o022)
    _die_with_scorer(cfg)
    flags = 0
    if cfg["isolation"] in ("auto", "userns") and sys.platform.startswith("linux"):
        flags = _enter_namespaces(cfg, info)
    if flags & CLONE_NEWPID:
        _become_pid_init(info_fd)
    uid, gid = cfg.get("uid"), cfg.get("gid")
    drop = uid is not None and os.geteuid() == 0 and not flags & CLONE_NEWUSER
    _enter_root(cfg, flags, info, uid if drop else None, gid if drop else None)
    _set_rlimits(cfg)
    _drop_privileges(cfg, flags, info, drop)
    _close_side_channels(cfg, flags, info)
    os.write(info_fd, json.dumps(info).encode())
    os.close(info_fd)
    _run_source(src, guard_src)
    sys.exit(0)
