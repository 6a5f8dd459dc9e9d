"""The Linux calls the sandbox makes through libc: namespaces, mounts, prctl, capabilities, seccomp.

Both sides use it: the scorer (``PR_SET_CHILD_SUBREAPER``) and the child bootstrap
(:mod:`mdrl.domains.sandbox_child`), which loads it before it isolates itself. Standard
library only, and nothing runs at import: the child starts from this file's cached bytecode.
"""

from __future__ import annotations

import os

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

_LIBC = None


def libc():
    """The C library, loaded once (ctypes is imported only when a call needs it)."""
    global _LIBC
    if _LIBC is None:
        import ctypes

        _LIBC = ctypes.CDLL(None, use_errno=True)
    return _LIBC


def check(ret: int, what: str) -> None:
    """Raise OSError with errno's text when a libc call returned non-zero."""
    if ret != 0:
        import ctypes

        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    """unshare(2) the namespaces of ``flags``."""
    check(libc().unshare(flags), "unshare")


def prctl(option: int, arg: int) -> None:
    """prctl(2) with one argument."""
    import ctypes

    check(libc().prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl({option})")


def mount(src: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    """mount(2); None stands for NULL."""
    enc = lambda s: s.encode() if s is not None else None
    check(libc().mount(enc(src), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


# A syscall the sandboxed program gets EPERM for (libseccomp through ctypes, where the host
# has the library): memory that no rlimit counts. memfd_create pages are charged to no
# address space until mapped (six 60 MiB memfds ran past a 256 MiB cap); System V shared
# memory outlives the process without an IPC namespace. System V message queues and POSIX
# message queues are kernel memory too: 32,000 queues of 16 KiB each (a fresh IPC
# namespace's defaults) held 488 MiB under a 256 MiB cap, and like shmget they outlive the
# process where there is no IPC namespace.
SECCOMP_DENIED = ("memfd_create", "shmget", "msgget", "mq_open")
SCMP_ACT_ALLOW, SCMP_ACT_ERRNO_EPERM = 0x7FFF0000, 0x00050000 | 1


def seccomp_deny(names: tuple[str, ...]) -> str | None:
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


def drop_caps() -> None:
    """Give up every capability (those a user namespace grants its root included)."""
    import ctypes

    for cap in range(64):  # empty bounding set: an exec'd program regains nothing
        if libc().prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) != 0:
            break

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    check(libc().capset(ctypes.byref(Header(0x20080522, 0)), (Data * 2)()), "capset")
