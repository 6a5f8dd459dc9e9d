"""What a sandboxed run leaves behind, found and removed (the scorer's side).

Processes: the scorer is a child subreaper, so escapees (double-forked or ``setsid``'d) are
re-parented to it; after each run every process with the run's uid, token or session is
killed and reaped (:func:`sweep`). Work directories carry the scorer's pid, so those of a
scorer killed mid-run are removed by a later run (:func:`clean_stale_workdirs`), as are its
cgroups.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import threading
import time

from . import sandbox_cgroup
from .sandbox_child import TOKEN_ENV
from .sandbox_linux import PR_SET_CHILD_SUBREAPER, prctl

WORKDIR_PREFIX = "mdrl-sbx-"
SANDBOX_THREAD_PREFIX = "mdrl-"  # threads of the sandbox's own callers (e.g. the code judge's solution side)

_SUBREAPER_PID = 0
_SUBREAPER_LOCK = threading.Lock()
# first processes of the runs in progress in this process (their run_program waits for them)
LIVE_PIDS: set[int] = set()
LIVE_LOCK = threading.Lock()


def ensure_subreaper() -> None:
    """Make this process the reaper of orphaned descendants, so escapees stay findable.

    Not inherited across fork, so it is set again in each worker process.
    """
    global _SUBREAPER_PID
    with _SUBREAPER_LOCK:
        if _SUBREAPER_PID == os.getpid() or not sys.platform.startswith("linux"):
            return
        try:
            prctl(PR_SET_CHILD_SUBREAPER, 1)
        except (OSError, AttributeError):
            pass
        _SUBREAPER_PID = os.getpid()


def kill_group(pgid: int) -> None:
    """SIGKILL a process group, if it still exists."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def stat_field(pid: int, field: int) -> int | None:
    """A numeric field of /proc/PID/stat, 1-based as in proc(5); readable for zombies too."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        return int(stat[stat.rindex(b")") + 2 :].split()[field - 3])
    except (OSError, ValueError, IndexError):
        return None


def sweep(run_uid: int | None, token: str, run_sid: int, machine_wide: bool, started: int | None) -> int:
    """Kill and reap every process left by the run; returns how many were found.

    A process is the run's if it has the run's uid, carries its token in its environment,
    or is still in its session (zombies, whose environment can no longer be read).
    """
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency
        return 0
    me, my_pid, found = psutil.Process(), os.getpid(), 0

    def ours(p: psutil.Process) -> bool:
        try:
            if run_uid is not None and p.uids().real == run_uid:
                return True
            if stat_field(p.pid, 6) == run_sid:  # its session
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
        found += _reap_zombies_since(me, started)
    return found


def _reap_zombies_since(me, started: int) -> int:
    """Reap zombie children of ours born at or after tick ``started``; how many.

    A zombie that left the run's session (setsid, then exited) is recognisable only by age
    (start tick not before the run's); reaping it is safe only while no thread but the
    sandbox's own may be waiting for a child of ours, and never the first process of a run
    still in progress (another thread's run_program waits for it).
    """
    import psutil

    with LIVE_LOCK:
        live = set(LIVE_PIDS)
    found = 0
    for p in me.children():
        try:
            born = stat_field(p.pid, 22)
            if p.pid not in live and p.status() == psutil.STATUS_ZOMBIE and born is not None and born >= started:
                _reap(p.pid)
                found += 1
        except psutil.Error:
            pass
    return found


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


_CLEAN_EVERY = 200
_RUNS = 0


def clean_stale_workdirs(force: bool = False) -> int:
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
        if pid_alive(int(parts[0])):
            continue
        shutil.rmtree(os.path.join(base, name), ignore_errors=True)
        removed += not os.path.exists(os.path.join(base, name))
    return removed + sandbox_cgroup.clean_stale(pid_alive)


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as gone; unknown counts as alive)."""
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
