"""Run a code job in the sandbox and read back what happened (the scorer's side).

Assert-based tests (``functional``: LeetCode/CodeR1, HumanEval, MBPP) run in two sandboxed
processes: the solution's (:mod:`mdrl.domains.code_solution`) and the tests'
(:mod:`mdrl.domains.code_tests`), joined only by three pipes that carry plain data. The
tests' process is started first, made non-dumpable and isolated before the solution's
process receives its code; its stdout, the result channel, is never inherited by the
solution's process (only the three pipe ends are passed to each, every other descriptor
is closed). stdin/stdout and call-based cases run in one sandbox
(:mod:`mdrl.domains.code_stdio`) and are compared here, against expected values the
sandbox never receives.

The harness modules are real modules of this package; their text is shipped into the
sandbox, whose interpreter cannot import this package (it sees only the Python install).
"""

from __future__ import annotations

import json
import marshal
import math
import os
import re
import secrets
import threading
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from .sandbox import (
    LEVELS,
    RunResult,
    isolation_level,
    layers_summary,
    probe,
    run_program,
    run_program_sandbox_fusion,
)

HERE = Path(__file__).resolve().parent
FLOAT_TOL = 1e-6
COMPARISON = "exact; numbers within 1e-6 only where the expected value is a float"
SHIPPED = ("mdrl.domains.sandbox_guard", "mdrl.domains.code_wire")

# The modules travel compiled (marshal, for this very interpreter): the sandbox runs them
# without compiling some 60 kB of source at every run.
_LOADER = """\
def _mdrl_load(name, blob):
    import marshal, sys, types
    for parent in ("mdrl", "mdrl.domains"):
        if parent not in sys.modules:
            pkg = types.ModuleType(parent)
            pkg.__path__ = []
            sys.modules[parent] = pkg
    mod = types.ModuleType(name)
    mod.__file__ = "<" + name + ">"
    mod.__package__ = name.rpartition(".")[0]  # relative imports among the shipped modules resolve
    sys.modules[name] = mod
    exec(marshal.loads(blob) if isinstance(blob, bytes) else compile(blob, mod.__file__, "exec"), mod.__dict__)
    return mod
"""


@cache
def program(main_module: str, compiled: bool = True) -> str:
    """The text the sandbox runs: the shipped modules, then ``main_module.main()``.

    ``compiled=False`` ships source instead, for a remote backend whose Python may differ.
    """
    parts = [_LOADER]
    for name in (*SHIPPED, main_module):
        src = (HERE / (name.rsplit(".", 1)[1] + ".py")).read_text()
        blob = marshal.dumps(compile(src, f"<{name}>", "exec")) if compiled else src
        parts.append(f"_mdrl_load({name!r}, {blob!r})\n")
    parts.append(f"import sys as _s\n_s.modules[{main_module!r}].main()\n")
    return "".join(parts)


def _payload(job: dict) -> bytes:
    data = json.dumps(job).encode("ascii")  # ASCII: byte length == character length
    return f"{len(data)}\n".encode() + data


# --------------------------------------------------------------------------------------
# isolation floor
# --------------------------------------------------------------------------------------


def check_floor(isolation: str, floor: str) -> str | None:
    """Why code cannot be scored here (one sentence), or None when the floor is met."""
    if floor not in LEVELS:
        return f"min_isolation must be one of {', '.join(LEVELS)}, not {floor!r}"
    info = probe(isolation, cached=True)
    level = isolation_level(info)
    if LEVELS.index(level) <= LEVELS.index(floor):
        return None
    notes = "; ".join(info.get("notes") or []) or "no details"
    return (
        f"code is not scored: the sandbox here reaches isolation '{level}' ({notes}), below "
        f"min_isolation '{floor}'; set reward.domains.code.min_isolation={level} to accept it (see docs/sandbox.md)"
    )


def probe_summary(isolation: str) -> str:
    """The layers a run gets on this host in ``isolation`` mode (cached probe)."""
    return layers_summary(probe(isolation, cached=True))


def _below_floor(infos: list[dict], floor: str) -> str | None:
    for info in infos:
        if "namespaces" not in info:
            continue  # the run ended before its program started: nothing ran to be contained
        level = isolation_level(info)
        if LEVELS.index(level) > LEVELS.index(floor):
            return f"a sandbox run got isolation '{level}', below min_isolation '{floor}'"
    return None


# --------------------------------------------------------------------------------------
# functional: two processes
# --------------------------------------------------------------------------------------


def run_functional(job: dict, options: Mapping, run_timeout: float) -> tuple[dict | None, dict]:
    """Run assert-based ``job``; (report or None, facts: isolation layers, stderr, why)."""
    memory_mb = int(options["memory_mb"])
    isolation = str(options.get("isolation") or "auto")
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    ctl_r, ctl_w = os.pipe()
    gate_r, gate_w = os.pipe()
    cancel_r, cancel_w = os.pipe()
    open_fds = {req_r, req_w, resp_r, resp_w, ctl_r, ctl_w, gate_r, gate_w, cancel_r, cancel_w}
    lock = threading.Lock()

    def close(*fds: int) -> None:
        with lock:
            for fd in fds:
                if fd in open_fds:
                    open_fds.discard(fd)
                    os.close(fd)

    def open_gate(_info: bytes) -> None:
        close(gate_w)  # EOF makes the gate readable: the tests' process is isolated now

    test_job = {k: job[k] for k in ("cases", "prelude", "budget", "case_timeout")}
    test_job.update(post=job.get("post") or "", entries=job.get("entries") or [], fds={"req": req_w, "resp": resp_r, "ctl": ctl_w})
    sol_job = {"prelude": job["prelude"], "code": job["code"], "fds": {"req": req_r, "resp": resp_w, "ctl": ctl_r}}
    out: dict[str, RunResult] = {}

    def solution_side() -> None:
        out["solution"] = run_program(
            program("mdrl.domains.code_solution"), _payload(sol_job), run_timeout, memory_mb, 1_000_000,
            guard=False, isolation=isolation, pass_fds=(req_r, resp_w, ctl_r), gate_fd=gate_r,
            cancel_fd=cancel_r, on_spawn=lambda: close(req_r, resp_w, ctl_r),
        )

    thread = threading.Thread(target=solution_side, name="mdrl-solution-side", daemon=True)
    try:
        thread.start()
        tests = run_program(
            program("mdrl.domains.code_tests"), _payload(test_job), run_timeout, memory_mb, 4_000_000,
            guard=True, isolation=isolation, pass_fds=(req_w, resp_r, ctl_w), on_info=open_gate,
            nodump=True, on_spawn=lambda: close(req_w, resp_r, ctl_w),
        )
        close(gate_w)
        os.write(cancel_w, b"x")  # the tests are over: end the solution's run now
        thread.join()
    finally:
        close(*list(open_fds))
    solution = out.get("solution")
    facts: dict[str, Any] = {
        "isolation": {"tests": layers_summary(tests.isolation), "solution": layers_summary(solution.isolation) if solution else "not started"},
        "infos": [tests.isolation] + ([solution.isolation] if solution else []),
        "why": tests.killed_reason or f"exit code {tests.returncode}",
        "stderr": tests.stderr,
    }
    return _last_line_report(tests.stdout), facts


def _last_line_report(stdout: str) -> dict | None:
    """The tests' report: their last non-empty line of output, if it is a JSON object."""
    for line in reversed(stdout.splitlines()):
        if line.strip():
            try:
                report = json.loads(line)
            except ValueError:
                return None
            return report if isinstance(report, dict) else None
    return None


# --------------------------------------------------------------------------------------
# stdin/stdout and call-based: one process, compared here
# --------------------------------------------------------------------------------------


def run_single(job: dict, options: Mapping, run_timeout: float) -> tuple[dict | None, dict]:
    """Run a stdio/call ``job`` in one sandbox; (report or None, facts)."""
    payload = _payload(job)
    nonce = secrets.token_hex(16)
    stdin = payload + nonce.encode() + b"\n"
    limit = 6 * sum(job["caps"]) + 1_000_000  # JSON escaping may grow output up to 6x
    memory_mb = int(options["memory_mb"])
    if (options.get("backend") or "local") == "sandbox_fusion":
        source = program("mdrl.domains.code_stdio", compiled=False)
        res = run_program_sandbox_fusion(
            source, stdin.decode("ascii"), run_timeout, memory_mb, limit, sandbox_url=options.get("sandbox_url")
        )
    else:
        source = program("mdrl.domains.code_stdio")
        res = run_program(source, stdin, run_timeout, memory_mb, limit, guard=False, isolation=str(options.get("isolation") or "auto"))
    facts = {
        "isolation": {"solution": layers_summary(res.isolation) if "backend" not in res.isolation else "sandbox_fusion (remote)"},
        "infos": [] if "backend" in res.isolation else [res.isolation],
        "why": res.killed_reason or f"exit code {res.returncode}",
        "stderr": res.stderr,
    }
    prefix = nonce + " "
    for line in res.stdout.splitlines():
        if line.startswith(prefix):
            try:
                report = json.loads(line[len(prefix) :])
            except ValueError:
                return None, facts
            return (report if isinstance(report, dict) else None), facts
    return None, facts


# --------------------------------------------------------------------------------------
# comparison (APPS/TACO style, without their near-miss integers)
# --------------------------------------------------------------------------------------


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=FLOAT_TOL, abs_tol=FLOAT_TOL)


def _float_token(token: str) -> float | None:
    """The value of a token written as a float (``0.5``, ``1e-3``), None for ints and words."""
    try:
        int(token)
        return None
    except ValueError:
        pass
    try:
        return float(token)
    except ValueError:
        return None


# A number as a judge reads it: ASCII digits only. float() also takes "١.٥", "０.５",
# "1_0.5" and surrounding whitespace; none of them is the expected output.
_ASCII_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def stdio_match(got: str, expected: str) -> bool:
    """Same whitespace-separated tokens; a token the expected output writes as a float
    matches a number within 1e-6, every other token must be equal character for character."""
    if got.strip() == expected.strip():
        return True
    a, b = got.split(), expected.split()
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x == y:
            continue
        fy = _float_token(y)
        if fy is None or not _ASCII_NUMBER.fullmatch(x):
            return False
        try:
            fx = float(x)
        except ValueError:
            return False
        if not (math.isfinite(fx) and math.isfinite(fy) and _close(fx, fy)):
            return False
    return True


def _deep_eq(got: Any, expected: Any) -> bool:
    if type(expected) is float and type(got) in (int, float):
        if got == expected:
            return True
        try:  # an int too large for a float is no float's neighbour (float() would raise)
            return math.isfinite(got) and math.isfinite(expected) and _close(float(got), expected)
        except OverflowError:
            return False
    if isinstance(expected, list) and isinstance(got, list):
        return len(got) == len(expected) and all(_deep_eq(x, y) for x, y in zip(got, expected))
    if isinstance(expected, dict) and isinstance(got, dict):
        return got.keys() == expected.keys() and all(_deep_eq(got[k], expected[k]) for k in expected)
    return bool(got == expected)


def call_match(got: Any, expected: Any) -> bool:
    """APPS call-based rule: equal to the expected value, or to its first element when
    the expected value is a one-element (wrapping) list; tolerance only where the expected
    is a float."""
    if _deep_eq(got, expected):
        return True
    # only a one-element list is a wrapper: for an unwrapped list answer ([3, 5]) the rule
    # would accept its first element (3) alone
    return isinstance(expected, list) and len(expected) == 1 and _deep_eq(got, expected[0])


def case_passed(mode: str, rec: Any, expected: list | None, i: int) -> tuple[bool, str]:
    """Whether record ``rec`` of case ``i`` passed, and why not."""
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


def below_floor(facts: dict, floor: str) -> str | None:
    """Why the runs of ``facts`` did not meet ``floor`` (None if they did)."""
    return _below_floor(facts.get("infos") or [], floor)
