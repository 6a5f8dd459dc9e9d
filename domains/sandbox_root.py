"""The private root of a sandboxed run (child side, inside its new mount namespace).

A small tmpfs becomes the run's ``/``: read-only binds of the system and Python
directories only (so the data on this machine is out of reach), benchmark data inside the
Python install covered, a minimal ``/dev``, a ``/proc`` of the run's own pid namespace, and
size-capped ``/tmp`` and ``/dev/shm``. Standard library only; loaded into the child by
:mod:`mdrl.domains.sandbox_child`'s launcher, never run in the scorer.
"""

from __future__ import annotations

import os

from .sandbox_linux import (
    MS_BIND,
    MS_NOATIME,
    MS_NODEV,
    MS_NODIRATIME,
    MS_NOEXEC,
    MS_NOSUID,
    MS_RDONLY,
    MS_REC,
    MS_RELATIME,
    MS_REMOUNT,
    mount,
)

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
DEVICES = ("null", "zero", "full", "random", "urandom")


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
    mount(src, dst, None, MS_BIND | MS_REC)
    if not readonly:
        return
    for mp in _mount_points_under(dst):  # read-only needs one remount per (sub)mount
        st = os.statvfs(mp)
        # keep the flags the kernel locks in a user namespace, or the remount is refused
        keep = st.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME)
        if st.f_flag & 4096:  # ST_RELATIME
            keep |= MS_RELATIME
        try:
            mount(None, mp, None, MS_REMOUNT | MS_BIND | MS_RDONLY | keep)
        except OSError:
            if mp == dst:
                raise


def _bind_system(new: str, cfg: dict) -> None:
    """System and Python directories, read-only; benchmark data in the Python install hidden."""
    covered: list[str] = []
    for top in SYSTEM_DIRS:
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
            mount("tmpfs", new + path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "size=4k,mode=555")


def _make_dev(new: str) -> None:
    """A tmpfs /dev with the harmless devices, the std streams and a 1 MiB /dev/shm."""
    dev = new + "/dev"
    os.makedirs(dev)
    mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=1m,mode=755")
    for name in DEVICES:
        if os.path.exists("/dev/" + name):
            _bind("/dev/" + name, f"{dev}/{name}", readonly=False)
    for i, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink(f"/proc/self/fd/{i}", f"{dev}/{name}")
    os.symlink("/proc/self/fd", dev + "/fd")
    os.mkdir(dev + "/shm")
    os.chmod(dev + "/shm", 0o1777)


def _make_proc(new: str, pid_ns: bool) -> None:
    os.makedirs(new + "/proc")
    mounted_proc = False
    if pid_ns:  # a /proc of our own pid namespace: no other process on the machine is visible
        try:
            mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            mounted_proc = True
        except OSError:
            pass
    if not mounted_proc:
        _bind("/proc", new + "/proc", readonly=False)


def build_root(cfg: dict, pid_ns: bool, uid: int | None, gid: int | None) -> None:
    """A private root: tmpfs with read-only binds of system and Python dirs; then chroot."""
    new = cfg["workdir"]  # reused as the mount point of the new root in this namespace only
    mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(cfg['tmpfs_mb'])}m,mode=755")
    _bind_system(new, cfg)
    _make_dev(new)
    _make_proc(new, pid_ns)
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


def python_readable_by_others(python_dirs: list[str]) -> bool:
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
