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

Where each part lives (this module is the scorer-side API and re-exports the rest):

* child side, run in the sandboxed process: :mod:`~mdrl.domains.sandbox_child` (the
  bootstrap, in order: program, namespaces, private root, rlimits, uid, seccomp, run),
  :mod:`~mdrl.domains.sandbox_root` (the private root), :mod:`~mdrl.domains.sandbox_linux`
  (the libc calls);
* scorer side: :mod:`~mdrl.domains.sandbox_spawn` (the child's config and environment),
  :mod:`~mdrl.domains.sandbox_pump` (its I/O), :mod:`~mdrl.domains.sandbox_cleanup`
  (leftover processes and work directories), :mod:`~mdrl.domains.sandbox_cgroup` (the
  run's cgroup), :mod:`~mdrl.domains.sandbox_result` (results and isolation levels),
  :mod:`~mdrl.domains.sandbox_remote` (the SandboxFusion client).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from . import sandbox_cgroup
from .sandbox_child import TOKEN_ENV, child_argv  # noqa: F401 - TOKEN_ENV is public here
from .sandbox_cleanup import (  # noqa: F401 - WORKDIR_PREFIX, SANDBOX_THREAD_PREFIX are public here
    LIVE_LOCK,
    LIVE_PIDS,
    SANDBOX_THREAD_PREFIX,
    WORKDIR_PREFIX,
    clean_stale_workdirs,
    ensure_subreaper,
    kill_group,
    stat_field,
    sweep,
)
from .sandbox_linux import SECCOMP_DENIED  # noqa: F401 - public here
from .sandbox_pump import STDERR_LIMIT, pump  # noqa: F401 - STDERR_LIMIT is public here
from .sandbox_remote import run_program_sandbox_fusion  # noqa: F401 - public here
from .sandbox_result import (  # noqa: F401
    ISOLATION_MODES,
    LEVELS,
    RunResult,
    isolation_level,
    layers_summary,
)
from .sandbox_spawn import (  # noqa: F401
    HIDDEN_PACKAGE_DATA,
    UID_BASE,
    UID_SPAN,
    child_config,
    child_env,
    pick_uid,
)

GUARD_SOURCE = (Path(__file__).resolve().parent / "sandbox_guard.py").read_text()
_clean_stale_workdirs = clean_stale_workdirs  # the name tests and older callers use
_WARNED_ROOT = False


class _Run:
    """One sandboxed run on the scorer's side: work directory, cgroup, child, leftovers.

    The steps of :func:`run_program`, in order: ``spawn``, ``communicate``, ``stop`` (always),
    then ``finish`` (or ``discard`` when the child could not be run).
    """

    def __init__(self, isolation: str, uid: int | None, memory_mb: int, nproc: int, cgroup: bool) -> None:
        self.token = secrets.token_hex(12)
        self.is_root = hasattr(os, "geteuid") and os.geteuid() == 0
        self.run_uid = pick_uid(uid) if self.is_root and isolation in ("auto", "no_namespaces") else None
        self.pooled = self.run_uid is not None and uid is None and not os.environ.get("MDRL_SANDBOX_UID")
        # the scorer's pid in the name: a later run removes the directories of a dead scorer
        # (a pool worker killed at the item limit never reaches its own clean-up)
        self.workdir = tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-")
        self.t0 = time.monotonic()
        self.info_r, self.info_w = os.pipe()
        self.memory_mb, self.nproc, self.cgroup = memory_mb, nproc, cgroup
        self.group: sandbox_cgroup.RunGroup | None = None
        self.no_group = "off"
        self.proc: subprocess.Popen | None = None
        self.started: int | None = None

    def create_group(self) -> None:
        if self.cgroup:
            self.group, self.no_group = sandbox_cgroup.create(self.memory_mb, self.nproc, os.path.basename(self.workdir))

    def spawn(self, cfg: dict, pass_fds: tuple[int, ...], on_spawn: Any) -> None:
        """Start the child; it blocks on stdin until :meth:`communicate` sends its program."""
        if self.run_uid is not None:
            os.chown(self.workdir, self.run_uid, self.run_uid)
        self.proc = proc = subprocess.Popen(
            child_argv(cfg),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=self.workdir,
            env=child_env(self.workdir, self.token),
            start_new_session=True,
            pass_fds=(self.info_w, *pass_fds),
            bufsize=0,
        )
        os.close(self.info_w)
        self.info_w = -1
        with LIVE_LOCK:
            LIVE_PIDS.add(proc.pid)
        if self.group is not None:
            # before the child has its program (it forks nothing until it has read it), so
            # every process of the run is in the group
            try:
                self.group.add(proc.pid)
            except OSError as exc:
                self.group.remove()
                self.group, self.no_group = None, f"could not join the run's cgroup ({exc.strerror})"
        if on_spawn is not None:
            on_spawn()
        self.started = stat_field(proc.pid, 22)  # start tick of the run's first process

    def communicate(self, data: bytes, deadline: float, limit: int, **pump_kw: Any) -> tuple[bytes, bytes, bytes, str | None]:
        """Send the program, collect its output until it ends or a limit stops it."""
        assert self.proc is not None
        out, err, info_raw, reason = pump(self.proc, data, self.info_r, deadline, limit, **pump_kw)
        if reason is None:
            # the pipes closed; the process itself may still be finishing (or running on
            # with its output closed, which is a timeout like any other)
            try:
                self.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                reason = "timeout"
        return out, err, info_raw, reason

    def stop(self) -> None:
        """Kill whatever is left of the child's group, timed out or not; close our ends."""
        proc = self.proc
        if proc is not None:
            kill_group(proc.pid)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILLed processes die
                pass
            with LIVE_LOCK:
                LIVE_PIDS.discard(proc.pid)
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                try:
                    if stream:
                        stream.close()
                except OSError:
                    pass
        for fd in (self.info_r, self.info_w):
            if fd >= 0:
                os.close(fd)
        self.info_r = self.info_w = -1

    def discard(self) -> None:
        """Remove the work directory and the cgroup of a run that could not be run."""
        shutil.rmtree(self.workdir, ignore_errors=True)
        if self.group is not None:
            self.group.remove()

    def finish(self, info_raw: bytes, isolation: str) -> dict:
        """Sweep the run's leftovers, remove its work dir and cgroup; its isolation report."""
        assert self.proc is not None
        try:
            info = json.loads(info_raw.decode() or "{}")
        except ValueError:
            info = {}
        machine_wide = self.pooled and "pid" not in info.get("namespaces", [])
        info["leftovers_killed"] = sweep(self.run_uid, self.token, self.proc.pid, machine_wide, self.started)
        shutil.rmtree(self.workdir, ignore_errors=True)
        if self.group is not None:
            info.setdefault("memory", []).extend(self.group.limits)
            if self.group.oom_killed():
                info.setdefault("notes", []).append(f"a process was killed at the run's memory limit ({int(self.memory_mb)} MiB)")
            self.group.remove()
        else:
            info.setdefault("notes", []).append(f"no cgroup: memory is capped per process only ({self.no_group})")
        if isolation == "auto":
            _warn_if_unisolated(info, self.is_root)
        return info


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
    ``gate_fd``/``cancel_fd``/``on_info`` see :func:`mdrl.domains.sandbox_pump.pump`;
    ``nodump`` makes the child non-dumpable before it reads stdin; ``on_spawn()`` runs once
    the child exists (the caller may close its copies of ``pass_fds`` then). ``cgroup``:
    where the scorer may create cgroups, ``memory_mb`` (and ``nproc``) also cap the whole
    run, every process it starts together (:mod:`mdrl.domains.sandbox_cgroup`). Never
    raises for anything the program does.
    """
    # Long only by its signature and docstring (the options of one run): the body is the
    # steps of _Run, in order.
    if isolation not in ISOLATION_MODES:
        raise ValueError(f"isolation must be one of {', '.join(ISOLATION_MODES)}, not {isolation!r}")
    ensure_subreaper()
    clean_stale_workdirs()
    src = source.encode("utf-8") if isinstance(source, str) else bytes(source)
    guard_src = GUARD_SOURCE.encode("utf-8") if guard else b""
    data = stdin.encode("utf-8") if isinstance(stdin, str) else bytes(stdin or b"")
    run = _Run(isolation, uid, memory_mb, nproc, cgroup)
    cfg = child_config(
        src_len=len(src), guard_len=len(guard_src), info_fd=run.info_w, workdir=run.workdir, isolation=isolation,
        run_uid=run.run_uid, pooled=run.pooled, timeout_s=timeout_s, memory_mb=memory_mb, nproc=nproc,
        file_mb=file_mb, tmpfs_mb=tmpfs_mb, nofile=nofile, guard=guard, nodump=nodump,
    )
    run.create_group()
    try:
        try:
            run.spawn(cfg, pass_fds, on_spawn)
            out, err, info_raw, reason = run.communicate(
                guard_src + src + data, run.t0 + float(timeout_s), int(output_limit),
                gate_fd=gate_fd, cancel_fd=cancel_fd, on_info=on_info,
            )
        finally:
            run.stop()
    except OSError as exc:
        run.discard()
        return RunResult("", f"sandbox failed to start: {exc}", None, False, "spawn_error", time.monotonic() - run.t0)
    info = run.finish(info_raw, isolation)
    return RunResult(
        stdout=out.decode("utf-8", "replace"),
        stderr=err.decode("utf-8", "replace"),
        returncode=run.proc.returncode if run.proc is not None else None,
        timed_out=reason == "timeout",
        killed_reason=reason,
        wall_s=round(time.monotonic() - run.t0, 4),
        isolation=info,
    )


def _warn_if_unisolated(info: dict, is_root: bool) -> None:
    global _WARNED_ROOT
    if is_root and info.get("root") and not _WARNED_ROOT:
        _WARNED_ROOT = True
        warnings.warn(
            "sandboxed programs run as root without namespaces here (" + "; ".join(info.get("notes", [])) + ")",
            RuntimeWarning,
            stacklevel=4,
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
