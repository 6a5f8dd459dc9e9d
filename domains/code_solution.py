"""The solution side of the code domain's two-process harness (runs inside a sandbox).

A supervisor that never runs the solution forks a worker that does: the worker executes
the prelude and the solution, announces the names it defined, then answers calls that the
test process (another sandbox, see :mod:`mdrl.domains.code_tests`) sends over a pipe, one
JSON line each way, values in the :mod:`mdrl.domains.code_wire` format. Nothing else of the
test side is here: not its code, its expected values, its globals or its result channel.

On a ``reset`` from the test process (a call ran past its case limit) the supervisor kills
the worker and forks a fresh one; a worker that dies on its own is reported as ``dead``.
Standard library only: this text is shipped into the sandbox.
"""

from __future__ import annotations

import builtins
import json
import os
import select
import signal
import sys
import traceback
import types
from typing import Any

from .code_wire import Decoder, Encoder, WireError, dumps, read_job

_MUTABLE = (list, dict, set, bytearray)


def _write_line(fd: int, obj: object) -> None:
    data = ("\n" + dumps(obj) + "\n").encode()  # leading newline: ends any partial line
    while data:
        data = data[os.write(fd, data) :]


def _short_error(exc: BaseException) -> str:
    try:
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        text = "".join(line for line in lines if "code_solution" not in line)
    except BaseException:  # noqa: BLE001 - a hostile __str__ must not take the worker down
        text = type(exc).__name__
    return text[-1500:]


class _Lines:
    """Newline-separated records from a descriptor."""

    def __init__(self, fd: int) -> None:
        self.fd, self.buf = fd, bytearray()

    def next(self) -> bytes | None:
        while b"\n" not in self.buf:
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return None
            self.buf += chunk
        line, _, rest = bytes(self.buf).partition(b"\n")
        self.buf = bytearray(rest)
        return line


def _node_like(x: object) -> bool:
    attrs = getattr(x, "__dict__", None)
    return isinstance(attrs, dict) and "val" in attrs and ("next" in attrs or "left" in attrs)


def _silence() -> None:
    """Prints go nowhere: the solution has no channel but its answers."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    sys.stdin = sys.__stdin__ = open(0, closefd=False)  # noqa: SIM115 - lives as long as the process
    sys.stdout = sys.__stdout__ = open(1, "w", closefd=False)  # noqa: SIM115 - lives as long as the process
    sys.stderr = sys.__stderr__ = open(2, "w", closefd=False)  # noqa: SIM115 - lives as long as the process
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _load_solution(job: dict, ns: dict) -> dict:
    """Run the prelude and the solution in ``ns``; the names they define, by kind."""
    if job.get("prelude"):
        exec(compile(job["prelude"], "<prelude>", "exec"), ns)  # noqa: S102 - running the program is the job
    exec(compile(job["code"], "<solution>", "exec"), ns)  # noqa: S102 - running the program is the job
    names = {}
    for key, value in list(ns.items()):
        if not isinstance(key, str) or key.startswith("__"):
            continue
        if isinstance(value, types.ModuleType):  # the tests may use what the solution imported
            names[key] = "module:" + str(getattr(value, "__name__", ""))
        elif callable(value):
            names[key] = "class" if isinstance(value, type) else "function"
    return names


class _Handles:
    """Objects that stay on this side, named by number for the tests' process."""

    def __init__(self) -> None:
        self.objects: dict[int, object] = {}

    def keep(self, obj: object) -> dict:
        self.objects[len(self.objects) + 1] = obj
        return {"h": len(self.objects)}

    def held(self, n: int) -> object:
        if n not in self.objects:
            raise WireError(f"unknown handle {n}")
        return self.objects[n]


def _call(msg: dict, ns: dict, handles: _Handles) -> dict:
    """Make the call ``msg`` asks for; the reply (value, arguments it changed)."""
    keep, held = handles.keep, handles.held
    dec = Decoder(ns.get("ListNode"), ns.get("TreeNode"), held)
    args = [dec.decode(a) for a in msg["a"]]
    kwargs = {str(k): dec.decode(v) for k, v in msg["k"].items()}
    watched = [(i, a) for i, a in enumerate(args) if isinstance(a, _MUTABLE) or _node_like(a)]
    watched += [(k, a) for k, a in kwargs.items() if isinstance(a, _MUTABLE) or _node_like(a)]
    before = [Encoder(keep).encode(a) for _, a in watched]
    op, name = msg["op"], str(msg["name"])
    if op == "new":
        out = {"h": keep(ns[name](*args, **kwargs))["h"]}
    elif op == "get":  # an attribute of an object kept here: a value, or a method
        value = getattr(held(msg["h"]), name)
        if callable(value) and not isinstance(value, type):
            return {"id": msg["id"], "c": 1}
        out = Encoder(keep).encode(value)
    elif op == "set":
        setattr(held(msg["h"]), name, args[0])
        out = None
    else:
        fn = ns[name] if op == "fn" else getattr(held(msg["h"]), name)
        out = Encoder(keep).encode(fn(*args, **kwargs))
    changed = {}
    for (key, arg), old in zip(watched, before):
        new = Encoder(keep).encode(arg)
        if new != old:
            changed[str(key)] = new
    return {"id": msg["id"], "v": out, "m": changed}


def _answer(line: bytes, ns: dict, handles: _Handles, write: Any, resp: int) -> None:
    """Answer one request line on ``resp``; any failure is the call's, reported as data."""
    rid = None
    try:
        msg = json.loads(line)
        rid = msg["id"]
        write(resp, _call(msg, ns, handles))
    except BaseException as exc:  # noqa: BLE001 - any failure is the call's, reported as data
        try:
            name = type(exc).__name__ if isinstance(type(exc).__name__, str) else "Exception"
        except BaseException:  # noqa: BLE001
            name = "Exception"
        write(resp, {"id": rid, "x": name, "e": _short_error(exc)})


def _worker(job: dict, gen: int, req: int, resp: int, ctl: int) -> None:
    """Run the solution and serve calls until the request pipe closes (never returns)."""
    os.close(ctl)
    _silence()
    write, exit_ = _write_line, os._exit
    guard = sys.modules.get("mdrl.domains.sandbox_guard")
    if guard is not None:
        exit_ = guard.reliability_guard()["_exit"]
    ns: dict = {"__name__": "__main__", "__builtins__": builtins}
    try:
        names = _load_solution(job, ns)
    except BaseException as exc:  # noqa: BLE001 - SystemExit too: leaving early is a failure
        write(resp, {"setup": _short_error(exc), "g": gen})
        exit_(0)
    handles = _Handles()
    write(resp, {"ready": gen, "names": names})
    lines = _Lines(req)
    while True:
        line = lines.next()
        if line is None:
            exit_(0)
        if not line.strip():
            continue
        _answer(line, ns, handles, write, resp)


def _spawn(job: dict, gen: int, req: int, resp: int, ctl: int) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            _worker(job, gen, req, resp, ctl)
        finally:
            os._exit(0)
    return pid


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def main() -> None:
    """Supervise workers until the test process closes the control pipe."""
    job = read_job()
    req, resp, ctl = int(job["fds"]["req"]), int(job["fds"]["resp"]), int(job["fds"]["ctl"])
    try:  # the worker shares our uid: keep our memory and descriptors out of its reach
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)
    except Exception:  # noqa: BLE001, S110 - best effort: no ctypes, no prctl
        pass
    gen, pid = 0, _spawn(job, 0, req, resp, ctl)
    lines = _Lines(ctl)
    while True:
        ready, _, _ = select.select([ctl], [], [], 0.05)
        if pid and os.waitpid(pid, os.WNOHANG)[0]:
            pid = 0
            _write_line(resp, {"dead": gen})
        if not ready:
            continue
        line = lines.next()
        if line is None:  # the tests are done (or gone)
            if pid:
                _kill(pid)
            os._exit(0)
        try:
            gen = int(json.loads(line)["reset"])
        except (ValueError, KeyError, TypeError):
            continue
        if pid:
            _kill(pid)
        pid = _spawn(job, gen, req, resp, ctl)
