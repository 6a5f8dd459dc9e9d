"""The stdin/stdout and call-based harness of the code domain (runs inside the sandbox).

It never executes the solution itself: it forks workers that do, one after another, and
each streams one record per case back over a private pipe. A worker that hangs past its
case limit is killed and the next one starts at the following case. The records carry
only what the program printed (stdin/stdout) or returned as JSON text (call-based); the
expected outputs never enter the sandbox, and the scorer compares outside it, so a forged
record can claim no more than the program could have printed.

The report goes out as one line ``<nonce> <json>``. The nonce is random per run and sits
unread in the stdin pipe until every worker is gone: the program never holds it (the
workers close stdin before any user code runs; the harness is non-dumpable, so they cannot
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

_REAL_EXIT = os._exit


def _read_exact(fd, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            raise EOFError("stdin ended early")
        buf += chunk
    return bytes(buf)


def _read_line(fd, limit=256):
    buf = bytearray()
    while len(buf) < limit:
        ch = os.read(fd, 1)  # one byte at a time: never read past the line into a buffer
        if not ch or ch == b"\n":
            break
        buf += ch
    return buf.decode("ascii", "replace")


def _fmt(exc):
    """The traceback of ``exc`` without this harness' own frames."""
    try:
        import traceback
        te = traceback.TracebackException(type(exc), exc, exc.__traceback__)
        te.stack = traceback.StackSummary.from_list([f for f in te.stack if f.filename != "<program>"])
        text = "".join(te.format())
    except BaseException:
        text = type(exc).__name__
    return text[-1500:]


def _scratch():
    """An anonymous file for a case's input or output (the private /tmp; memfd is denied)."""
    import tempfile

    fd, path = tempfile.mkstemp()
    os.unlink(path)
    return fd


def _join_threads():
    """Wait for the program's threads like interpreter exit would; True if some stay alive."""
    import threading
    me = threading.current_thread()
    for t in threading.enumerate():
        if t is not me and not t.daemon:
            t.join()
    return any(t.is_alive() for t in threading.enumerate() if t is not me)



def _worker(job, start, wfd):
    import builtins
    import threading  # noqa: F401 - imported now, while the import machinery is intact
    # bound before any user code runs: replacing builtins or modules cannot reach these
    dumps, write, perf, exec_, eval_ = json.dumps, os.write, time.perf_counter, exec, eval
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)  # the nonce still waits in the stdin pipe: out of this process' reach
    # stdout is the harness' channel, and a chatty program must not fill the capped stderr:
    # errors travel as tracebacks in the records instead
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversized output fails the write, not the worker
    sys.stdin = sys.__stdin__ = open(0, "r", closefd=False)
    sys.stdout = sys.__stdout__ = open(1, "w", closefd=False)
    guard = sys.modules.get("mdrl.domains.sandbox_guard")
    saved = guard.reliability_guard() if guard is not None else {"_exit": os._exit}
    exit_ = saved["_exit"]

    def send(rec):
        data = dumps(rec, default=repr).encode()
        data = len(data).to_bytes(4, "big") + data
        while data:
            data = data[write(wfd, data):]

    mode, cases = job["mode"], job["cases"]
    caps = job["caps"]

    def fresh():
        return {"__name__": "__main__", "__builtins__": builtins}

    try:
        prelude = compile(job["prelude"], "<prelude>", "exec") if job["prelude"] else None
        code = compile(job["code"], "<solution>", "exec")
    except BaseException as exc:
        send({"setup": _fmt(exc)})
        exit_(0)

    if mode == "call":
        ns = fresh()
        try:
            if prelude:
                exec_(prelude, ns)
            exec_(code, ns)
            _join_threads()
            name = job["fn_name"]
            sol = ns.get("Solution")
            if isinstance(sol, type) and hasattr(sol, name):
                target = lambda *a: getattr(sol(), name)(*a)  # noqa: E731 - fresh instance per case
            else:
                target = ns.get(name)
            if not callable(target):
                raise NameError(f"function {name!r} is not defined")
        except BaseException as exc:  # SystemExit too: leaving before the tests is a failure
            send({"setup": _fmt(exc)})
            exit_(0)
        for i in range(start, len(cases)):
            t0 = perf()
            rec = {"i": i, "s": "ok"}
            try:
                args = cases[i] if isinstance(cases[i], list) else [cases[i]]
                if args and isinstance(args[0], dict):  # APPS: JSON object keys back to ints
                    try:
                        args = [{int(k): v for k, v in args[0].items()}] + list(args[1:])
                    except (TypeError, ValueError):
                        pass
                ret = target(*args)
                _join_threads()
                # values cross as JSON text, compared by the scorer: a rigged __eq__ stays here
                text = dumps(ret, default=repr)
                rec["r"] = text[: caps[i]]
                if len(text) > caps[i]:
                    rec["trunc"] = True
            except BaseException as exc:
                rec = {"i": i, "s": "error", "e": _fmt(exc)}
            rec["t"] = round(perf() - t0, 4)
            send(rec)
        exit_(0)

    # stdin/stdout: the program runs once per case, on real descriptors, so input(),
    # sys.stdin.buffer, open(0) and os.read(0, ...) all see the case input
    import atexit, gc
    spare = os.open(os.devnull, os.O_RDWR)
    ns = None
    for i in range(start, len(cases)):
        # file objects of the last case (open(0) closes its descriptor when collected) must
        # go now, and 0/1 stay occupied, so no new descriptor lands on 0 or 1 by accident
        ns = None
        gc.collect()
        os.dup2(spare, 0)
        os.dup2(spare, 1)
        fin = _scratch()
        data = cases[i].encode("utf-8")
        while data:
            data = data[os.write(fin, data):]
        os.lseek(fin, 0, 0)
        os.dup2(fin, 0)
        os.close(fin)
        fout = _scratch()
        os.dup2(fout, 1)
        out_stream = open(1, "w", encoding="utf-8", closefd=False)
        sys.stdin = sys.__stdin__ = open(0, "r", encoding="utf-8", errors="replace", closefd=False)
        sys.stdout = sys.__stdout__ = out_stream
        ns = fresh()
        status, err, dirty = "ok", "", False
        t0 = perf()
        try:
            if prelude:
                exec_(prelude, ns)
            exec_(code, ns)
            dirty = _join_threads()
        except SystemExit as exc:  # exit() ends a program normally; a non-zero code is a runtime error
            code_ = exc.code
            if code_ is not None and code_ != 0:
                status, err = "error", f"SystemExit({code_!r})"
            dirty = _join_threads()
        except BaseException as exc:
            status, err = "error", _fmt(exc)
        try:  # what a process exit would do next: atexit hooks (fast-output idioms flush there)
            atexit._run_exitfuncs()
        except BaseException:
            pass
        atexit._clear()
        for stream in (sys.stdout, out_stream):
            try:
                stream.flush()
            except BaseException:
                pass
        os.lseek(fout, 0, 0)
        chunks, size = [], 0
        while size <= caps[i]:
            chunk = os.read(fout, min(1 << 20, caps[i] + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        os.close(fout)
        out = b"".join(chunks)
        send({"i": i, "s": status, "o": out[: caps[i]].decode("utf-8", "replace"),
              "trunc": size > caps[i], "e": err, "t": round(perf() - t0, 4)})
        if dirty:  # threads still running would write into the next case: start afresh
            send({"restart": True})
            break
    exit_(0)


def _clean(rec, cap):
    out = {"i": rec["i"], "s": rec.get("s") if rec.get("s") in ("ok", "error") else "error"}
    for key in ("o", "r", "e"):
        if isinstance(rec.get(key), str):
            out[key] = rec[key][: (cap + 1) if key != "e" else 1500]
    if rec.get("trunc") is True:
        out["trunc"] = True
    if isinstance(rec.get("t"), (int, float)):
        out["t"] = rec["t"]
    return out


def main() -> None:
    """Entry point inside the sandbox: job and nonce on stdin, the report on stdout."""
    job = json.loads(_read_exact(0, int(_read_line(0))))
    try:  # workers share our uid: non-dumpable, our fds and memory are closed to them
        import ctypes
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)
    except Exception:
        pass
    cases, caps = job["cases"], job["caps"]
    total = len(cases)
    budget_end = time.monotonic() + float(job["budget"])
    case_limit = float(job["case_timeout"])
    results = [None] * total
    setup_error = None
    nxt = 0
    buf_limit = 2 * max(caps) + (1 << 20)
    while nxt < total and setup_error is None and time.monotonic() < budget_end:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                _worker(job, nxt, w)
            finally:
                _REAL_EXIT(0)
        os.close(w)
        cur, started, buf, fate, alive = nxt, time.monotonic(), bytearray(), None, True
        restart = False  # the worker asked for a fresh one (it did not crash)
        while fate is None:
            now = time.monotonic()
            limit = min(budget_end, started + case_limit)
            if now >= limit:
                fate = "timeout"
                break
            ready, _, _ = select.select([r], [], [], min(limit - now, 0.25))
            if not ready:
                if alive and os.waitpid(pid, os.WNOHANG)[0]:
                    alive = False  # died; a stray descendant may hold the pipe: stop waiting
                    os.set_blocking(r, False)
                    try:
                        buf += os.read(r, 1 << 24)
                    except OSError:
                        pass
                    fate = "crashed"
                if fate is None:
                    continue
            else:
                chunk = os.read(r, 1 << 16)
                if not chunk:
                    fate = "crashed"
                buf += chunk
                if len(buf) > buf_limit:  # no honest record is this long
                    fate = "crashed"
                    break
            while len(buf) >= 4:
                size = int.from_bytes(buf[:4], "big")
                if len(buf) < 4 + size:
                    break
                try:
                    rec = json.loads(bytes(buf[4:4 + size]))
                except ValueError:
                    rec = {}
                del buf[:4 + size]
                if not isinstance(rec, dict):
                    rec = {}
                if "setup" in rec:
                    setup_error = str(rec["setup"])[-1500:]
                    fate = "setup"
                    break
                if rec.get("restart") is True:
                    restart = True
                    continue
                i = rec.get("i")
                if type(i) is int and cur <= i < total:
                    results[i] = _clean(rec, caps[i])
                    cur, started = i + 1, time.monotonic()
            if cur >= total:
                break
        if alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
        os.close(r)
        if setup_error is None and not restart and cur < total and results[cur] is None:
            results[cur] = {"i": cur, "s": "timeout" if fate == "timeout" else "crashed"}
            cur += 1
        nxt = cur
    nonce = _read_line(0).strip()  # every worker is gone: only now take the nonce
    report = {"total": total, "results": results, "setup_error": setup_error}
    sys.stdout.write(nonce + " " + json.dumps(report) + "\n")
    sys.stdout.flush()
