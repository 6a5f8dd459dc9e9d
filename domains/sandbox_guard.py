"""The in-interpreter "reliability guard" of a sandboxed program (a convenience layer).

In the spirit of openai/human-eval's ``reliability_guard``: it blocks process control and
destructive calls that normal programs never need, while exit()/quit(), file removal and
tempfile keep working. It is not a security boundary (ctypes goes round it); the OS
layers of :mod:`mdrl.domains.sandbox` are. This module must import nothing but the
standard library: its text is shipped into the sandboxed interpreter and executed there
(by the bootstrap when ``guard=True``, and by the solution-side worker of the code domain,
which must keep fork/kill for its supervisor).
"""

from __future__ import annotations

BLOCKED_OS_NAMES = (
    "kill", "killpg", "system", "popen", "fork", "forkpty", "setsid", "setpgid", "setpgrp",
    "execv", "execve", "execl", "execle", "execlp", "execlpe", "execvp", "execvpe",
    "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe",
    "posix_spawn", "posix_spawnp", "pidfd_open", "setuid", "seteuid", "setgid", "setegid",
    "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "chroot",
)


def _blocked(name: str):
    def refuse(*args, **kwargs):
        raise PermissionError(f"{name}() is disabled in the sandbox")

    return refuse


def _soft_exit(code: int = 0) -> None:
    # os._exit would skip whatever runs after the program; SystemExit is seen and judged there
    raise SystemExit(code)


def reliability_guard() -> dict:
    """Block process control and destructive calls in this interpreter; return the originals."""
    import builtins
    import faulthandler
    import os
    import posix
    import shutil

    faulthandler.disable()
    saved = {"_exit": os._exit, "fork": getattr(os, "fork", None), "kill": getattr(os, "kill", None)}
    for mod in (os, posix):  # os re-exports posix: patch both so `import posix` is no way round
        for name in BLOCKED_OS_NAMES:
            if hasattr(mod, name):
                setattr(mod, name, _blocked(f"os.{name}"))
        mod._exit = _soft_exit
    try:
        import _posixsubprocess  # what subprocess.Popen really forks with

        _posixsubprocess.fork_exec = _blocked("subprocess")
    except ImportError:
        pass
    for name in ("rmtree", "move", "chown"):
        setattr(shutil, name, _blocked(f"shutil.{name}"))
    builtins.help = _blocked("help")
    return saved
