"""A code response and its ground truth, turned into the harness job the sandbox runs.

:func:`extract_code` takes the program out of the response; :func:`build_job` reads the
ground truth (LeetCode/CodeR1 ``functional``, TACO/APPS ``inputs``/``outputs`` with or
without ``fn_name``, HumanEval ``test``/``entry_point``, MBPP ``test_list``) into the job of
:mod:`mdrl.domains.code_judge`, keeping the expected outputs back from the sandbox.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Mapping
from typing import Any

from .code_prelude import LEETCODE_PRELUDE

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


def load_ground_truth(ground_truth: Any) -> dict:
    """A code item's ground truth as a dict (from JSON text, bytes, a dict or a numpy object)."""
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
