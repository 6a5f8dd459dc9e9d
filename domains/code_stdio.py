"""The stdin/stdout and call-based harness of the code domain (runs inside the sandbox).

It never executes the solution itself: for every case it forks a child that runs the
program with the case's input on its descriptor 0 and an anonymous file on 1 (and on 2,
for the traceback), and reads the outcome from what it controls: the child's exit status
and the files' contents. There are no records the program could forge: what it writes is
by definition its output (or, call-based, its return value as JSON text). The expected
outputs never enter the sandbox; the scorer compares outside it.

The report goes out as one line ``<nonce> <json>``. The nonce is random per run and sits
unread in the stdin pipe until the last child is gone: the program never holds it (each
child's descriptor 0 is its case input; the harness is non-dumpable, so children cannot
read it through /proc or ptrace). Standard library only: this text is shipped into the
sandbox.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
import traceback
from typing import Any

from .code_wire import read_job

SETUP_EXIT = 3  # call-based: the program failed before the function could be called
ERROR_TAIL = 1500


def _read_line(fd: int, limit: int = 256) -> str:
    buf = bytearray()
    while len(buf) < limit:
        ch = os.read(fd, 1)  # one byte at a time: never read past the line into a buffer
        if not ch or ch == b"\n":
            break
        buf += ch
    return buf.decode("ascii", "replace")


def _scratch() -> int:
    """An anonymous file in the private /tmp (memfd_create is denied by the sandbox)."""
    import tempfile

    fd, path = tempfile.mkstemp()
    os.unlink(path)
    return fd


def _read_back(fd: int, cap: int) -> tuple[bytes, bool]:
    """Up to ``cap`` bytes of a scratch file, and whether there was more."""
    os.lseek(fd, 0, 0)
    chunks, size = [], 0
    while size <= cap:
        chunk = os.read(fd, min(1 << 20, cap + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    data = b"".join(chunks)
    return data[:cap], size > cap


def _join_threads() -> None:
    """Wait for the program's threads as interpreter exit would."""
    import threading

    me = threading.current_thread()
    for t in threading.enumerate():
        if t is not me and not t.daemon:
            t.join()


def _redirect(fin: int, fout: int, ferr: int) -> None:
    """The case's scratch files become the std streams."""
    for src, dst in ((fin, 0), (fout, 1), (ferr, 2)):
        os.dup2(src, dst)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversized output fails the write, not the run
    sys.stdin = sys.__stdin__ = open(0, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115 - lives as long as the process
    sys.stdout = sys.__stdout__ = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 - lives as long as the process
    sys.stderr = sys.__stderr__ = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 - lives as long as the process


def _call_case(job: dict, i: int, target: Any, fres: int, dumps: Any, write: Any) -> int:
    """Call ``target`` with case ``i``'s arguments, its value as JSON text into ``fres``;
    the exit status."""
    try:
        args = job["cases"][i] if isinstance(job["cases"][i], list) else [job["cases"][i]]
        if args and isinstance(args[0], dict):  # APPS: JSON object keys back to ints
            try:
                args = [{int(k): v for k, v in args[0].items()}] + list(args[1:])
            except (TypeError, ValueError):
                pass
        ret = target(*args)
        _join_threads()
        data = dumps(ret, default=repr).encode()  # JSON text, compared by the scorer
        while data:
            data = data[write(fres, data) :]
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
        return 1
    return 0


def _call_target(job: dict, ns: dict) -> Any:
    """The function a call-based case calls: ``Solution().fn_name`` or ``fn_name``."""
    name = job["fn_name"]
    sol = ns.get("Solution")
    if isinstance(sol, type) and hasattr(sol, name):
        target = getattr(sol(), name)
    else:
        target = ns.get(name)
    if not callable(target):
        raise NameError(f"function {name!r} is not defined")
    return target


def _child(job: dict, i: int, fin: int, fout: int, ferr: int, fres: int) -> None:
    """Run case ``i`` in this (forked) process and exit; never returns."""
    import atexit
    import builtins

    _redirect(fin, fout, ferr)
    guard = sys.modules.get("mdrl.domains.sandbox_guard")
    exit_ = guard.reliability_guard()["_exit"] if guard is not None else os._exit
    # bound before any user code runs: replacing builtins or modules cannot reach these
    dumps, write, exec_ = json.dumps, os.write, exec
    ns: dict = {"__name__": "__main__", "__builtins__": builtins}
    status = 0
    try:
        prelude = compile(job["prelude"], "<prelude>", "exec") if job["prelude"] else None
        code = compile(job["code"], "<solution>", "exec")
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
        sys.stderr.flush()
        exit_(SETUP_EXIT)
    if job["mode"] == "call":
        try:
            if prelude:
                exec_(prelude, ns)
            exec_(code, ns)
            target = _call_target(job, ns)
        except BaseException:  # noqa: BLE001 - SystemExit too: leaving before the call is a failure
            traceback.print_exc()
            sys.stderr.flush()
            exit_(SETUP_EXIT)
        status = _call_case(job, i, target, fres, dumps, write)
    else:
        try:
            if prelude:
                exec_(prelude, ns)
            exec_(code, ns)
            _join_threads()
        except SystemExit as exc:  # exit() ends a program normally; a non-zero code is an error
            if exc.code is not None and exc.code != 0:
                print(f"SystemExit({exc.code!r})", file=sys.stderr)
                status = 1
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
            status = 1
        try:  # what a process exit would do next: atexit hooks (fast-output idioms flush there)
            atexit._run_exitfuncs()
        except BaseException:  # noqa: BLE001, S110 - the program's own hooks and streams may fail
            pass
    for stream in (sys.stdout, sys.stderr, sys.__stdout__):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001, S110 - the program's own hooks and streams may fail
            pass
    exit_(status)


def _wait(pid: int, deadline: float) -> int | None:
    """The child's wait status, or None if it is still running at ``deadline`` (then killed)."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = -1
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if pidfd >= 0:
                select.select([pidfd], [], [], left)
            else:
                time.sleep(min(left, 0.002))
    finally:
        if pidfd >= 0:
            os.close(pidfd)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    return None


def run(job: dict) -> dict:
    """Run every case of ``job``, one child each; the report."""
    cases, caps = job["cases"], job["caps"]
    budget_end = time.monotonic() + float(job["budget"])
    case_limit = float(job["case_timeout"])
    results: list = [None] * len(cases)
    for i in range(len(cases)):
        now = time.monotonic()
        if now >= budget_end:
            break
        fin, fout, ferr, fres = _scratch(), _scratch(), _scratch(), _scratch()
        if job["mode"] == "stdio":
            data = str(cases[i]).encode("utf-8")
            while data:
                data = data[os.write(fin, data) :]
            os.lseek(fin, 0, 0)
        pid = os.fork()
        if pid == 0:
            try:
                _child(job, i, fin, fout, ferr, fres)
            finally:
                os._exit(1)
        status = _wait(pid, min(budget_end, now + case_limit))
        elapsed = round(time.monotonic() - now, 4)
        err, _ = _read_back(ferr, 64 << 10)
        err_text = err.decode("utf-8", "replace")[-ERROR_TAIL:]
        if status is None:
            rec: dict = {"i": i, "s": "timeout"}
        elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == SETUP_EXIT:
            for fd in (fin, fout, ferr, fres):
                os.close(fd)
            return {"results": results, "setup_error": err_text or "the program failed before the tests"}
        elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            rec = {"i": i, "s": "ok"}
        else:
            why = f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else "runtime error"
            rec = {"i": i, "s": "error", "e": err_text or why}
        out, trunc = _read_back(fres if job["mode"] == "call" else fout, int(caps[i]))
        rec["o" if job["mode"] == "stdio" else "r"] = out.decode("utf-8", "replace")
        if trunc:
            rec["trunc"] = True
        rec["t"] = elapsed
        results[i] = rec
        for fd in (fin, fout, ferr, fres):
            os.close(fd)
    return {"results": results, "setup_error": None}


def main() -> None:
    """Entry point inside the sandbox: job and nonce on stdin, the report on stdout."""
    job = read_job()
    try:  # children share our uid: non-dumpable, our descriptors and memory are closed to them
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)
    except Exception:  # noqa: BLE001, S110 - best effort: no ctypes, no prctl
        pass
    report = run(job)
    nonce = _read_line(0).strip()  # every child is gone: only now take the nonce
    sys.stdout.write(nonce + " " + json.dumps(report) + "\n")
    sys.stdout.flush()
