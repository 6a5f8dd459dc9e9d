"""The test side of the code domain's two-process harness (runs inside its own sandbox).

It holds the test code, its own copy of the prelude (ListNode, is_same_tree, ...), its own
builtins and ``sys.modules``, and the result channel (its stdout, which the solution's
process never holds). Names the tests take from the solution (``Solution``, the entry
point, MBPP's function) are proxies: a call sends its arguments as plain data (see
:mod:`mdrl.domains.code_wire`) to the solution's process and rebuilds the answer here from
data, with this side's own types, so no object of the solution's ever reaches an assert.

A case (one test program, or one MBPP assert) passes if it runs to the end without an
exception within its time limit; a call still running at the limit is abandoned and the
solution's process restarted for the next case. Standard library only: this text is
shipped into the sandbox.
"""

from __future__ import annotations

import ast
import builtins
import json
import os
import select
import signal
import sys
import time
import traceback
from typing import Any

from .code_wire import Decoder, Encoder, WireError, dumps, read_job

MAX_LINE = 64 << 20  # no honest answer is longer
MAX_INT_DIGITS = 200_000


class CaseTimeout(BaseException):
    """The case ran past its limit (a BaseException: test code's ``except Exception`` lets it through)."""


class SolutionError(Exception):
    """The solution raised, crashed or answered with something that is not wire data."""


class SolutionGone(SolutionError):
    """The solution's process died or closed its pipe."""


# Exceptions of the solution that tests may expect (``with pytest.raises``-style checks):
# raised here as this side's own builtin class, with the message only. Anything else
# (SystemExit, KeyboardInterrupt, its own classes, a class named AssertionError) arrives as
# a SolutionError, so no exception of the solution's can end or satisfy a test early.
RAISED_AS_BUILTIN = frozenset((
    "ValueError", "TypeError", "KeyError", "IndexError", "ZeroDivisionError", "ArithmeticError",
    "OverflowError", "LookupError", "RuntimeError", "NotImplementedError", "RecursionError", "AttributeError",
))


class Link:
    """The pipes to the solution's process, and the protocol over them."""

    def __init__(self, req: int, resp: int, ctl: int) -> None:
        self.req, self.resp, self.ctl = req, resp, ctl
        self.buf = bytearray()
        self.gen, self.next_id = 0, 0
        self.busy = False
        self.gone = False
        self.names: dict[str, str] = {}
        self.nodes: tuple[Any, Any] = (None, None)

    # -- lines -------------------------------------------------------------------------
    def _line(self, deadline: float | None) -> dict:
        while True:
            # checked on every line, not only when the pipe is idle: a solution that floods
            # its answer pipe with blank or junk lines must not keep the tests past the limit
            if deadline is not None and time.monotonic() >= deadline:
                raise CaseTimeout()
            nl = self.buf.find(b"\n")
            if nl >= 0:
                line = bytes(self.buf[:nl])
                del self.buf[: nl + 1]
                if not line.strip():
                    continue
                try:
                    msg = json.loads(line)
                except (ValueError, RecursionError):
                    continue  # a torn line of a killed worker, or noise
                if isinstance(msg, dict):
                    return msg
                continue
            if len(self.buf) > MAX_LINE:
                self.buf.clear()
                raise SolutionError("the solution's answer is too long")
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.resp], [], [], wait)
            if not ready:
                raise CaseTimeout()
            chunk = os.read(self.resp, 1 << 20)
            if not chunk:
                self.gone = True
                raise SolutionGone("the solution's process is gone")
            self.buf += chunk

    def _send(self, fd: int, obj: object) -> None:
        data = (dumps(obj) + "\n").encode()
        while data:
            data = data[os.write(fd, data) :]

    def wait_ready(self, deadline: float) -> None:
        """Wait for the current worker's announcement; raises SolutionError on a setup failure."""
        while True:
            msg = self._line(deadline)
            if msg.get("g") == self.gen and "setup" in msg:
                raise SolutionError(str(msg["setup"])[-1500:])
            if msg.get("dead") == self.gen:
                raise SolutionGone("the solution's process died before the tests")
            if msg.get("ready") == self.gen and isinstance(msg.get("names"), dict):
                self.names = {str(k): str(v) for k, v in msg["names"].items()}
                return

    def reset(self, deadline: float) -> None:
        """Abandon the call in flight: a fresh worker, ready before the next case."""
        self.gen += 1
        self.busy = self.gone = False
        self.buf.clear()
        self._send(self.ctl, {"reset": self.gen})
        self.wait_ready(deadline)

    # -- calls -------------------------------------------------------------------------
    def call(self, op: str, name: str, handle: int | None, args: tuple, kwargs: dict) -> Any:
        enc = Encoder(self._handle_of, (Remote,))
        try:
            data = {"a": [enc.encode(a) for a in args], "k": {str(k): enc.encode(v) for k, v in kwargs.items()}}
        except WireError as exc:
            raise SolutionError(f"cannot pass this argument to the solution: {exc}") from None
        self.next_id += 1
        rid = self.next_id
        msg = {"id": rid, "op": op, "name": name, "h": handle, **data}
        self.busy = True
        self._send(self.req, msg)
        while True:
            ans = self._line(None)
            if ans.get("dead") == self.gen:
                self.busy = False
                self.gone = True
                raise SolutionGone("the solution's process died during the call")
            if ans.get("id") == rid:
                break
        self.busy = False
        dec = Decoder(self.nodes[0], self.nodes[1], lambda n: Remote(self, n))
        if "x" in ans:
            name, text = str(ans.get("x"))[:100], str(ans.get("e", ""))[-300:]
            if name in RAISED_AS_BUILTIN:
                raise getattr(builtins, name)(f"(raised by the solution) {text}")
            raise SolutionError(f"{name}: {text}")
        if op == "get" and ans.get("c") == 1:
            return RemoteCallable(self, "m", name, handle)
        try:
            value = dec.decode(ans.get("v"))
            changed = ans.get("m") if isinstance(ans.get("m"), dict) else {}
            for key, new in changed.items():
                target = args[int(key)] if key.isdigit() and int(key) < len(args) else kwargs.get(key)
                if target is not None:
                    _update_in_place(target, dec.decode(new))
        except (WireError, TypeError, ValueError, RecursionError) as exc:
            raise SolutionError(f"the solution answered with something that is not a value: {exc}") from None
        return value

    @staticmethod
    def _handle_of(obj: Any) -> dict:
        if type(obj) is Remote:
            return {"h": object.__getattribute__(obj, "_handle")}
        raise WireError(f"cannot send a {type(obj).__name__!r} value")


def _update_in_place(target: Any, new: Any) -> None:
    """Make an argument the solution changed in place look changed here too."""
    t = type(target)
    if t is list and type(new) is list:
        target[:] = new
    elif t is dict and type(new) is dict or t is set and type(new) is set:
        target.clear()
        target.update(new)
    elif t is bytearray and type(new) is bytearray:
        target[:] = new
    elif hasattr(target, "__dict__") and hasattr(new, "__dict__"):
        for attr in ("val", "next", "left", "right"):
            if attr in vars(target) or attr in vars(new):
                setattr(target, attr, getattr(new, attr, None))


class Remote:
    """An object that stays in the solution's process; attributes are remote methods."""

    __slots__ = ("_handle", "_link")

    def __init__(self, link: Link, handle: int) -> None:
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_handle", handle)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        link, handle = object.__getattribute__(self, "_link"), object.__getattribute__(self, "_handle")
        return link.call("get", name, handle, (), {})

    def __setattr__(self, name: str, value: Any) -> None:
        link, handle = object.__getattribute__(self, "_link"), object.__getattribute__(self, "_handle")
        link.call("set", name, handle, (value,), {})

    def __repr__(self) -> str:
        return f"<solution object {object.__getattribute__(self, '_handle')}>"


class RemoteCallable:
    """A function, class or method of the solution: calling it is a call over the link."""

    __slots__ = ("_handle", "_link", "_name", "_op")

    def __init__(self, link: Link, op: str, name: str, handle: int | None = None) -> None:
        self._link, self._op, self._name, self._handle = link, op, name, handle

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._link.call(self._op, self._name, self._handle, args, kwargs)

    def __repr__(self) -> str:
        return f"<solution {self._name}>"


def _defined_names(tree: ast.Module) -> set[str]:
    """Names a test program binds at its top level (its own helpers, check, constants)."""
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in node.names)
        else:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    out.add(sub.id)
    return out


def _used_names(trees: list[ast.Module]) -> set[str]:
    return {n.id for t in trees for n in ast.walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def choose_targets(trees: list[ast.Module], solution_names: dict[str, str], own: set[str], entries: list[str]) -> dict:
    """The names the tests take from the solution: those they use and do not have themselves.

    ``own``: names this side defines (builtins, its prelude, its setup); ``entries`` (the
    function under test: HumanEval's prompt defines a stub of it, an MBPP task may be
    named like a builtin) are always the solution's.
    """
    defined = set(own)
    for t in trees:
        defined |= _defined_names(t)
    wanted = {n for n in _used_names(trees) if n not in defined}
    wanted.update(entries)
    return {n: solution_names[n] for n in sorted(wanted) if n in solution_names}


TRUSTED_THIRD_PARTY = frozenset(("numpy", "sortedcontainers"))
MODULE_ALIASES = {"np": "numpy"}


def _own_module(alias: str, name: str) -> Any:
    """This side's own import of a module the solution bound to ``alias`` (MBPP 596's tests
    use the ``sys`` its solution imports): only the real module of that name (or a
    conventional alias), from the standard library or a few trusted packages."""
    import importlib

    if name.rsplit(".", 1)[-1] != alias and MODULE_ALIASES.get(alias) != name:
        return None  # `math` announced as some other module: not taken
    top = name.split(".")[0]
    if top not in getattr(sys, "stdlib_module_names", ()) and top not in TRUSTED_THIRD_PARTY:
        return None
    try:
        return importlib.import_module(name)
    except Exception:  # noqa: BLE001 - absent here: the tests' NameError will say so
        return None


def _fmt(exc: BaseException) -> str:
    try:
        te = traceback.TracebackException(type(exc), exc, exc.__traceback__)
        text = "".join(te.format_exception_only())
    except BaseException:  # noqa: BLE001
        text = type(exc).__name__
    return text[-1500:]


def _on_alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout()


def _bind_solution_names(link: Link, trees: list, ns: dict, entries: list[str]) -> None:
    """Put the names the tests take from the solution into ``ns``: proxies for its
    functions and classes, this side's own import for a module it announced."""
    own = set(dir(builtins)) | {k for k in ns if not k.startswith("__")}
    for entry in entries:
        own.discard(entry)
    for name, kind in choose_targets(trees, link.names, own, entries).items():
        if kind.startswith("module:"):
            module = _own_module(name, kind[len("module:") :])
            if module is not None:
                ns[name] = module
        else:
            ns[name] = RemoteCallable(link, "new" if kind == "class" else "fn", name)


def _run_timed(code: Any, ns: dict, seconds: float) -> None:
    """exec ``code`` in ``ns`` under an alarm of ``seconds`` (CaseTimeout at the limit)."""
    try:
        signal.setitimer(signal.ITIMER_REAL, max(0.001, seconds))
        exec(code, ns)  # noqa: S102 - running the tests is the job
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _run_case(i: int, tree: ast.Module, ns: dict, seconds: float) -> dict:
    """One case's record: ok, timeout or error (with the exception's last line)."""
    t0 = time.monotonic()
    rec: dict = {"i": i, "s": "ok"}
    try:
        _run_timed(compile(tree, f"<test {i}>", "exec"), ns, seconds)
    except CaseTimeout:
        rec = {"i": i, "s": "timeout"}
    except BaseException as exc:  # noqa: BLE001 - AssertionError or anything else: the case fails
        rec = {"i": i, "s": "error", "e": _fmt(exc)}
    rec["t"] = round(time.monotonic() - t0, 4)
    return rec


def run(job: dict) -> dict:
    """Run every case of ``job``; the report of results (one dict per case)."""
    budget_end = time.monotonic() + float(job["budget"])
    case_limit = float(job["case_timeout"])
    cases = [str(c) for c in job["cases"]]
    fds = job["fds"]
    link = Link(int(fds["req"]), int(fds["resp"]), int(fds["ctl"]))
    results: list = [None] * len(cases)
    ns: dict = {"__name__": "__main__", "__builtins__": builtins}
    try:
        trees = [ast.parse(c, f"<test {i}>") for i, c in enumerate(cases)]
        post = ast.parse(job.get("post") or "", "<test setup>")
        if job.get("prelude"):
            exec(compile(job["prelude"], "<prelude>", "exec"), ns)  # noqa: S102 - running the program is the job
    except BaseException as exc:  # noqa: BLE001 - the ground truth itself is broken
        return {"results": results, "setup_error": "the tests do not run: " + _fmt(exc), "test_error": True}
    link.nodes = (ns.get("ListNode"), ns.get("TreeNode"))
    try:
        link.wait_ready(budget_end)
    except CaseTimeout:
        return {"results": results, "setup_error": "the solution did not start within the time budget"}
    except SolutionError as exc:
        return {"results": results, "setup_error": str(exc)}
    _bind_solution_names(link, trees + [post], ns, [str(e) for e in job.get("entries") or []])
    signal.signal(signal.SIGALRM, _on_alarm)
    try:
        if job.get("post"):
            _run_timed(compile(post, "<test setup>", "exec"), ns, budget_end - time.monotonic())
    except BaseException as exc:  # noqa: BLE001
        return {"results": results, "setup_error": "the test setup failed: " + _fmt(exc)}
    for i, tree in enumerate(trees):
        now = time.monotonic()
        if now >= budget_end:
            break
        results[i] = _run_case(i, tree, ns, min(case_limit, budget_end - now))
        if link.busy or link.gone:
            try:
                link.reset(budget_end)
            except (CaseTimeout, SolutionError, OSError):
                break
    return {"results": results, "setup_error": None}


def main() -> None:
    """Entry point inside the sandbox: job on stdin, one report line on the real stdout."""
    job = read_job()
    out = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):  # test code that prints must not write into the report channel
        os.dup2(devnull, fd)
    os.close(devnull)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - lives as long as the process
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    if hasattr(sys, "set_int_max_str_digits"):
        # big enough for any honest answer; a 60 MB run of digits would take minutes to parse
        # (in C, where the case alarm cannot interrupt it), so it fails as a ValueError instead
        sys.set_int_max_str_digits(MAX_INT_DIGITS)
    report = run(job)
    data = (dumps(report) + "\n").encode()
    while data:
        data = data[os.write(out, data) :]
