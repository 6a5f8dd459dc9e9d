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

How a response is judged (see PITFALLS.md on why the exit code never is; the full
threat model is in docs/sandbox.md):

* Assert-based tests (``functional``, HumanEval, MBPP) run in a process of their own,
  apart from the solution's (:mod:`mdrl.domains.code_judge`): two sandboxes joined by
  pipes that carry plain data only (:mod:`mdrl.domains.code_wire`). The tests' process
  holds the test code, its own prelude (ListNode, is_same_tree, ...), its own builtins and
  modules, and the result channel; ``Solution``, the entry point or MBPP's function are
  proxies there, whose answers are rebuilt from data with the tests' own types. Frame
  walks, forged records, shadowed builtins, fake modules and liar objects find nothing of
  the tests to reach. A call that hangs fails its case; the solution's process restarts.
* stdin/stdout and call-based cases run one child per case (:mod:`mdrl.domains.code_stdio`)
  and are compared here against expected values the sandbox never receives: tokens
  exactly, except where the expected token is written as a float (within 1e-6); call-based
  return values equal, with the same tolerance only where the expected value is a float.
* Code is scored only where the sandbox reaches ``min_isolation`` (default: namespaces);
  every result names the isolation layers each process got (``details["isolation"]``).
* Verdict.fraction = passed / total cases (per assert for MBPP, per case for stdin/stdout
  and call-based; one case for a ``check(...)`` function); correct = every case passed.

This module holds the verdict; the parts live beside it: :mod:`~mdrl.domains.code_job`
(answer and ground truth into a harness job), :mod:`~mdrl.domains.code_loaders` (dataset
rows), :mod:`~mdrl.domains.code_prelude` (the LeetCode prelude),
:mod:`~mdrl.domains.code_judge` (running a job in the sandbox and comparing outputs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import row_info
from .base import Domain, Row, Verdict, Wording, register
from .code_job import (  # noqa: F401 - the answer and ground-truth helpers are public here
    build_job,
    extract_code,
    fenced_blocks,
    load_ground_truth,
    mbpp_entries,
)
from .code_judge import (  # noqa: F401 - stdio_match/call_match are public here
    COMPARISON,
    below_floor,
    call_match,
    case_passed,
    check_floor,
    probe_summary,
    run_functional,
    run_single,
    stdio_match,
)
from .code_loaders import (  # noqa: F401 - the loaders are public here
    ABILITY,
    CODER1_HF,
    MBPP_HF,
    MBPP_SPLITS,
    humaneval_file,
    load_coder1,
    load_humaneval,
    load_leetcode,
    load_mbpp,
)
from .code_prelude import LEETCODE_PRELUDE  # noqa: F401 - public here
from .safe_verify import never_raises

DEFAULT_TIMEOUT_S = 10.0  # per program (one response, all of its tests)
DEFAULT_MEMORY_MB = 2048
HARNESS_GRACE_S = 3.0  # harness start-up and report, on top of the program budget
DEFAULT_MIN_ISOLATION = "namespaces"  # see docs/sandbox.md: weaker hosts must opt in
MAX_CODE_CHARS = 200_000

# --------------------------------------------------------------------------------------
# verify
# --------------------------------------------------------------------------------------


def _tail(text: str, n: int = 500) -> str:
    return text[-n:] if text else ""


def _job_for(answer: str, ground_truth: Any) -> tuple[dict, list | None] | Verdict:
    """The harness job and the expected values, or the verdict when there is nothing to run."""
    code = extract_code(answer)
    if code is None:
        return Verdict.wrong("no python code block", passed=0, total=0)
    if len(code) > MAX_CODE_CHARS:
        return Verdict.wrong("code block too long", passed=0, total=0)
    try:
        return build_job(load_ground_truth(ground_truth), code)
    except (ValueError, TypeError, KeyError) as exc:
        return Verdict.wrong(f"unusable ground truth: {exc}", passed=0, total=0)


def _refusal(job: dict, backend: str, floor: str, options: Mapping) -> Verdict | None:
    """Why this job is not run here (a host below the isolation floor, a backend that
    cannot run assert-based tests), or None."""
    total = len(job["cases"])
    if backend == "local":
        mode = str(options.get("isolation") or "auto")
        refusal = check_floor(mode, floor)
        if refusal:
            return Verdict.wrong(refusal, passed=0, total=total, unscored=True, isolation={"host": probe_summary(mode)})
    elif job["mode"] == "functional":
        return Verdict.wrong(
            f"assert-based tests need the local two-process sandbox, not the {backend} backend", passed=0, total=total
        )
    return None


def _count(job: dict, expected: list | None, report: dict, stderr_tail: str, base: dict) -> Verdict:
    """The verdict from the per-case records of ``report``."""
    total = len(job["cases"])
    results = report.get("results")
    results = results if isinstance(results, list) else []
    passed, first_failure = 0, None
    for i in range(total):
        rec = results[i] if i < len(results) else None
        ok, why = case_passed(job["mode"], rec, expected, i)
        passed += ok
        if not ok and first_failure is None:
            first_failure = {"case": i, "why": why}
            if not stderr_tail and isinstance(rec, dict):
                stderr_tail = _tail(str(rec.get("e") or ""))
    details: dict[str, Any] = {"passed": passed, "total": total, "stderr_tail": stderr_tail, **base}
    if passed == total:
        return Verdict.right(**details)
    details["first_failure"] = first_failure
    return Verdict(passed / total, False, {"reason": f"{passed}/{total} tests passed", **details})


def _verdict(job: dict, expected: list | None, report: dict | None, facts: dict, floor: str | None) -> Verdict:
    """The verdict of one run: unscored below ``floor`` (None: no floor), else per case."""
    total = len(job["cases"])
    base: dict[str, Any] = {"isolation": facts["isolation"]}
    if job["mode"] != "functional":
        base["comparison"] = COMPARISON
    stderr_tail = _tail(facts["stderr"])
    weak = below_floor(facts, floor) if floor is not None else None
    if weak:
        return Verdict.wrong(f"code is not scored: {weak}", passed=0, total=total, unscored=True, **base)
    if report is None:
        return Verdict.wrong(f"no test report from the sandbox ({facts['why']})", passed=0, total=total, stderr_tail=stderr_tail, **base)
    if report.get("setup_error"):
        last = str(report["setup_error"]).strip().splitlines()
        return Verdict.wrong(
            f"program failed before the tests: {last[-1][:300] if last else 'error'}",
            passed=0,
            total=total,
            stderr_tail=_tail(str(report["setup_error"])),
            **base,
        )
    return _count(job, expected, report, stderr_tail, base)


def _verify(answer: str, ground_truth: Any, options: Mapping) -> Verdict:
    prepared = _job_for(answer, ground_truth)
    if isinstance(prepared, Verdict):
        return prepared
    job, expected = prepared
    backend = options.get("backend") or "local"
    floor = str(options.get("min_isolation") or DEFAULT_MIN_ISOLATION)
    refused = _refusal(job, backend, floor, options)
    if refused is not None:
        return refused
    opts = dict(options, memory_mb=int(options.get("memory_mb") or DEFAULT_MEMORY_MB))
    budget = float(options.get("timeout_s") or DEFAULT_TIMEOUT_S)
    job["budget"] = budget
    job["case_timeout"] = min(budget, float(options.get("case_timeout_s") or budget))
    run = run_functional if job["mode"] == "functional" else run_single
    report, facts = run(job, opts, budget + HARNESS_GRACE_S)
    return _verdict(job, expected, report, facts, floor if backend == "local" else None)


@never_raises(passed=0, total=0)  # a verifier bug costs one item, not the run
def verify(answer: str, ground_truth: Any, extra_info: Mapping | None = None, **options: Any) -> Verdict:
    """Run the last Python block of ``answer`` against ``ground_truth``'s tests.

    Options: ``timeout_s`` (program budget, default 10), ``case_timeout_s`` (per test
    case, default the budget), ``memory_mb`` (default 2048), ``backend`` ("local" or
    "sandbox_fusion"), ``sandbox_url``, ``isolation`` (the sandbox mode, default "auto";
    "no_namespaces" or "basic" force a weaker host's mode) and ``min_isolation`` (the
    weakest isolation level scored, default "namespaces"; see docs/sandbox.md). Details
    name the isolation layers each process got. Never raises.
    """
    return _verify(answer, ground_truth, options)


LEVELS = {"easy": 1.0, "medium": 2.0, "hard": 3.0}  # LeetCode's difficulty labels


def difficulty(row: Row) -> float:
    """LeetCode's label (easy 1, medium 2, hard 3); 0 for sets without one (TACO, HumanEval, MBPP)."""
    return LEVELS.get(str(row_info.info(row).get("difficulty", "")).lower(), 0.0)


def gold(row: Row) -> str | None:
    """The dataset's reference solution as one python block (LeetCode rows carry it; TACO/HumanEval may not)."""
    ref = row_info.info(row).get("reference")
    return f"```python\n{ref}\n```" if isinstance(ref, str) and ref.strip() else None


WORDING = {
    "en": Wording(task="a programming problem",
                  instruction="clearly give the complete solution as one ```python code block within <answer> </answer> tags."),
    "zh-simplified": Wording(task="一道编程题", instruction="请在 <answer> </answer> 标签内给出完整的解答，写成一个 ```python 代码块。"),
    "zh-traditional": Wording(task="一道程式設計題", instruction="請在 <answer> </answer> 標籤內給出完整的解答，寫成一個 ```python 程式碼區塊。"),
}

DOMAIN = register(
    Domain(
        name="code",
        data_sources=("code", "coder1", "code_r1", "leetcode", "taco", "humaneval", "mbpp"),
        verify=verify,
        wording=WORDING,
        difficulty=difficulty,
        gold=gold,
        timeout_s=DEFAULT_TIMEOUT_S + HARNESS_GRACE_S + 2.0,  # 15 s: the program's budget plus headroom
        loaders={
            "coder1": load_coder1,
            "code_r1": load_coder1,
            "leetcode": load_leetcode,
            "humaneval": load_humaneval,
            "mbpp": load_mbpp,
        },
    )
)
