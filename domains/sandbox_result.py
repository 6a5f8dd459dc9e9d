"""What one sandboxed run reports (:class:`RunResult`), and its isolation summed up as a level."""

from __future__ import annotations

import dataclasses

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
