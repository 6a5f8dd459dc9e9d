"""One memory (and pids) cgroup per sandboxed run: the scorer's side.

RLIMIT_AS caps each process, so a program that forks holds (processes x memory_mb) of host
memory. A cgroup of the run's own caps the whole run instead: every process the run starts
inherits it, and tmpfs pages of its private root are charged to it too. The scorer creates
the group, moves the child into it before the child has read its program (the child forks
nothing until then), and removes the group once every process of the run is gone.

Only where the scorer may create cgroups (root, a writable cgroup v1 ``memory`` hierarchy or
a cgroup v2 tree with the memory controller delegated); elsewhere :func:`create` returns
None with the reason, and the run keeps its per-process limits (the result says which).
Group names carry the scorer's pid, so groups of a scorer killed mid-run are removed by a
later run (:func:`clean_stale`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PREFIX = "mdrl-sbx-"


@dataclass
class RunGroup:
    """The cgroup directories of one run (one per hierarchy) and what they limit."""

    dirs: list[Path] = field(default_factory=list)
    limits: list[str] = field(default_factory=list)

    def add(self, pid: int) -> None:
        """Move ``pid`` (and so everything it will start) into the run's groups."""
        for d in self.dirs:
            (d / "cgroup.procs").write_text(str(pid))

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of the run for exceeding its memory."""
        for d in self.dirs:
            for name, key in (("memory.oom_control", "oom_kill "), ("memory.events", "oom_kill ")):
                try:
                    for line in (d / name).read_text().splitlines():
                        if line.startswith(key) and int(line.split()[1]) > 0:
                            return True
                except (OSError, ValueError, IndexError):
                    continue
        return False

    def remove(self) -> None:
        """Remove the groups; their processes are already killed (retried while they exit)."""
        for d in self.dirs:
            _rmdir(d)


def _own_path(controller: str) -> Path | None:
    """This process's cgroup directory in the hierarchy of ``controller`` ("" = cgroup v2)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, names, path = line.split(":", 2)
        if (controller and controller in names.split(",")) or (not controller and names == ""):
            base = ROOT / controller if controller else (ROOT / "unified" if (ROOT / "unified").is_dir() else ROOT)
            here = base / path.lstrip("/")
            return here if here.is_dir() else None
    return None


def _new_dir(parent: Path, name: str) -> Path | None:
    d = parent / name
    try:
        d.mkdir()
    except OSError:
        return None
    return d


def create(memory_mb: int, nproc: int, name: str) -> tuple[RunGroup | None, str]:
    """A run's groups capping its memory at ``memory_mb`` MiB (and its processes at
    ``nproc``, where a pids hierarchy is writable); or None and why not."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None, "not root"
    group = RunGroup()
    limit = str(int(memory_mb) << 20)
    mem = _own_path("memory")
    if mem is not None and (mem / "memory.limit_in_bytes").exists():  # cgroup v1
        d = _new_dir(mem, name)
        if d is not None:
            try:
                (d / "memory.limit_in_bytes").write_text(limit)
                swap = d / "memory.memsw.limit_in_bytes"
                if swap.exists():
                    swap.write_text(limit)  # no escape into swap either
                group.dirs.append(d)
                group.limits.append(f"cgroup memory {int(memory_mb)} MiB per run")
            except OSError:
                _rmdir(d)
    if not group.dirs:
        v2 = _own_path("")
        if v2 is not None and "memory" in _read(v2 / "cgroup.subtree_control").split():
            d = _new_dir(v2, name)
            if d is not None:
                try:
                    (d / "memory.max").write_text(limit)
                    if (d / "memory.swap.max").exists():
                        (d / "memory.swap.max").write_text("0")
                    if (d / "pids.max").exists():
                        (d / "pids.max").write_text(str(int(nproc)))
                        group.limits.append(f"cgroup pids {int(nproc)} per run")
                    group.dirs.append(d)
                    group.limits.insert(0, f"cgroup memory {int(memory_mb)} MiB per run")
                except OSError:
                    _rmdir(d)
    if not group.dirs:
        return None, "no writable memory cgroup"
    pids = _own_path("pids")
    if pids is not None and (pids / "pids.max").exists() and pids not in group.dirs:
        d = _new_dir(pids, name)
        if d is not None:
            try:
                (d / "pids.max").write_text(str(int(nproc)))
                group.dirs.append(d)
                group.limits.append(f"cgroup pids {int(nproc)} per run")
            except OSError:
                _rmdir(d)
    return group, ""


def clean_stale(alive) -> int:
    """Remove groups of scorers that no longer exist (``alive(pid)`` says which do)."""
    removed = 0
    for controller in ("memory", "pids", ""):
        base = _own_path(controller)
        if base is None:
            continue
        try:
            names = [n for n in os.listdir(base) if n.startswith(PREFIX)]
        except OSError:
            continue
        for name in names:
            pid_text = name[len(PREFIX) :].split("-", 1)[0]
            if pid_text.isdigit() and int(pid_text) != os.getpid() and not alive(int(pid_text)):
                removed += _rmdir(base / name, tries=1)
    return removed


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _rmdir(d: Path, tries: int = 50) -> bool:
    for _ in range(tries):
        try:
            d.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError:  # busy: its last processes are still exiting
            time.sleep(0.02)
    return False
