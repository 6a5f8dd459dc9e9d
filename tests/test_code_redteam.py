"""Red-team pass on the two-process code verifier (issue 11).

Every attack here is tried as a policy would, through :func:`mdrl.domains.code_domain.verify`
(the path ``mdrl score`` and the veRL/TRL hooks take), beside the same problem's honest
solution, which must still pass. The first group are bypasses this pass found and fixed
(each test failed before its fix); the rest are attacks that held, kept as regressions.
"""

from __future__ import annotations

import json
import os
import textwrap

import pytest
from mdrl.domains.code_domain import load_humaneval, verify
from mdrl.domains.code_judge import call_match, stdio_match


def fenced(code: str) -> str:
    return "```python\n" + textwrap.dedent(code).strip("\n") + "\n```"


def score(code: str, gt, **options):
    return verify(fenced(code), gt if isinstance(gt, str) else json.dumps(gt), None, **options)


# Small problems of every code source --------------------------------------------------

TOTAL = {"functional": "def check(candidate):\n    assert candidate([1, 2, 3]) == 6\n    assert candidate([]) == 0\n\ncheck(Solution().total)"}
TOTAL_REF = "class Solution:\n    def total(self, nums):\n        return sum(nums)\n"

REVERSE = {"functional": (
    "def check(candidate):\n"
    "    assert is_same_list(candidate(list_node([1, 2, 3])), list_node([3, 2, 1]))\n"
    "    assert is_same_list(candidate(list_node([5])), list_node([5]))\n\n"
    "check(Solution().reverseList)"
)}
REVERSE_REF = """
class Solution:
    def reverseList(self, head):
        prev = None
        while head:
            head.next, prev, head = prev, head, head.next
        return prev
"""

MBPP_ADD = {"test_list": ["assert add_one(1) == 2", "assert add_one(5) == 6", "assert add_one(-1) == 0"]}
MBPP_ADD_REF = "def add_one(x):\n    return x + 1\n"

STDIO_SUM = {"inputs": ["1 2\n", "10 20\n"], "outputs": ["3\n", "30\n"]}
STDIO_SUM_REF = "a, b = map(int, input().split())\nprint(a + b)\n"


@pytest.fixture(scope="module")
def truncate_number() -> dict:
    """HumanEval/2 (the installed package's row): tests use ``abs`` and a float tolerance."""
    return next(r for r in load_humaneval() if r["extra_info"]["task_id"] == "HumanEval/2")


def test_references_pass(truncate_number):
    assert score(TOTAL_REF, TOTAL).correct
    assert score(REVERSE_REF, REVERSE).correct
    assert score(MBPP_ADD_REF, MBPP_ADD).correct
    assert score(STDIO_SUM_REF, STDIO_SUM).correct
    he = truncate_number
    assert score(he["extra_info"]["reference"], he["reward_model"]["ground_truth"]).correct


# ======================================================================================
# Found and fixed
# ======================================================================================


def test_call_based_first_element_rule_only_unwraps_one_element_lists():
    """APPS's rule "equal to expected[0]" is meant for outputs wrapped in a one-element list.
    For an unwrapped list answer it accepted the first element alone: ``3`` for ``[3, 5]``
    scored 1.0 (fixed in code_judge.call_match)."""
    unwrapped = {"fn_name": "f", "inputs": [[1], [2]], "outputs": [[3, 5], [7, 9]]}
    assert score("def f(x):\n    return [3, 7][x - 1]\n", unwrapped).fraction == 0
    assert score("def f(x):\n    return [[3, 5], [7, 9]][x - 1]\n", unwrapped).correct
    wrapped = {"fn_name": "f", "inputs": [[1], [2]], "outputs": [[[3, 5]], [[7, 9]]]}
    assert score("def f(x):\n    return [[3, 5], [7, 9]][x - 1]\n", wrapped).correct
    assert score("def f(x):\n    return [3, 7][x - 1]\n", wrapped).fraction == 0
    assert call_match(3, [3]) and not call_match(3, [3, 5])


def test_stdio_float_tokens_are_ascii_numbers():
    """float() reads Arabic-Indic and full-width digits and underscores: "٠.٥", "０.５" and
    "0.5_0" matched an expected "0.5" (fixed in code_judge.stdio_match)."""
    for fake in ("٠.٥", "０.５", "0.5_0", "nan", "inf", "0x1p-1"):
        assert not stdio_match(fake, "0.5"), fake
    for honest in ("0.5", "0.50000001", ".5", "5e-1", "+0.5", "0.5000"):
        assert stdio_match(honest, "0.5"), honest
    gt = {"inputs": ["2\n"], "outputs": ["0.5\n"]}
    assert score("n = int(input())\nprint(1 / n)\n", gt).correct
    assert not score("input()\nprint('\u0660.\u0665')\n", gt).correct


def test_call_based_huge_int_against_a_float_fails_its_case_only():
    """An int too large for a float, returned where a float is expected, raised OverflowError
    in the comparison: a verifier error that voided the whole item (fixed in
    code_judge._deep_eq); now it fails its case and the other cases still count."""
    gt = {"fn_name": "half", "inputs": [[1], [3]], "outputs": [[0.5], [1.5]]}
    v = score("def half(x):\n    return 0.5 if x == 1 else 10 ** 400\n", gt)
    assert v.fraction == 0.5 and "verifier error" not in v.details.get("reason", "")
    assert score("def half(x):\n    return x / 2\n", gt).correct


def test_answer_pipe_flood_before_ready_ends_at_the_budget():
    """A solution that floods its answer pipe with blank lines before announcing itself kept
    the tests' process busy past the budget (the deadline was only checked when the pipe was
    idle) until the run was killed (13.5 s of a 10 s budget, "no test report"); now the
    tests' process gives up at its budget and reports it (fixed in code_tests.Link._line)."""
    # every descriptor the program may hold: the pipes keep the scorer's numbers, which grow
    # with what the scorer process has open (a fixed 3..19 missed them in some test orders)
    flood = """
    import os, resource
    data = b"\\n" * (1 << 20)
    for fd in range(3, min(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 4096)):
        try:
            while True:
                os.write(fd, data)
        except OSError:
            pass
    class Solution:
        def total(self, nums):
            return sum(nums)
    """
    v = score(flood, TOTAL, timeout_s=2)
    assert not v.fraction
    assert "did not start within the time budget" in v.details["reason"], v.details


def test_message_queues_are_denied():
    """SysV message queues are kernel memory no rlimit counts: 32,000 queues of 16 KiB held
    488 MiB under memory_mb=256 (and outlive the program where there is no IPC namespace).
    msgget and mq_open are now denied by the seccomp filter (sandbox.SECCOMP_DENIED)."""
    program = """
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    made = 0
    for _ in range(64):
        if libc.msgget(0, 0o1000 | 0o600) >= 0:
            made += 1
    mq = libc.mq_open(b"/mdrl-redteam", 0o100 | 2, 0o600, None)
    print(made, int(mq >= 0))
    """
    v = score(program, {"inputs": ["\n"], "outputs": ["0 0\n"]}, memory_mb=256)
    if "seccomp" not in json.dumps(v.details.get("isolation")):
        pytest.skip("no seccomp filter on this host (libseccomp missing)")
    assert v.correct, v.details
    assert "msgget" in json.dumps(v.details["isolation"])


def test_format_check_is_linear_on_a_run_of_blanks():
    """Not the code verifier but on every item's path (``details["well_formed"]``): the
    think/answer shape regex retried every split of a leading run of blanks, quadratic
    (20,000 spaces: 12 s; a 200,000-character response: about 20 minutes, so an item ran to
    its limit). Fixed in mdrl/scoring/answer.py; this returns at once (and hangs if the
    backtracking comes back). The regex's verdicts are unchanged."""
    from mdrl.scoring.answer import MAX_RESPONSE_CHARS, is_well_formed

    assert not is_well_formed(" " * MAX_RESPONSE_CHARS)
    assert not is_well_formed("\n" * (MAX_RESPONSE_CHARS // 2) + "x" * 10)
    assert is_well_formed("\n <think>a</think> <answer>1</answer>\n", require_think_open=True)
    assert is_well_formed("  a</think><answer>1</answer>")
    assert not is_well_formed("  a</think><answer>1</answer>", require_think_open=True)
    assert not is_well_formed("<think><think>a</think><answer>1</answer>")
    assert not is_well_formed("<think>a</think><answer>1</answer> trailing")


# ======================================================================================
# Held: kept as regressions
# ======================================================================================

# A raw answer written on the solution's answer pipe ahead of the worker's own, with the
# request id read from the worker's frame: every kind the wire format can name.
FORGED_KINDS = [
    {"ty": "object"}, {"ty": "NoneType"}, {"h": 1}, {"h": 999}, {"it": []}, {"it": [6]},
    {"r": [0, 10 ** 30, 1]}, {"fr": [1, 0]}, {"c": [1e308, 1e308]}, {"q": [6]}, {"s": [6]},
    {"ln": [6], "cy": 0}, {"tn": [6]}, {"b": "06"}, {"d": [[6, 6]]}, {"t": [6]}, float("nan"),
]
FORGE = """
import json, os, sys
FORGED = json.loads({kinds!r})
def _forge(i):
    f = sys._getframe(2)
    while f is not None and "rid" not in f.f_locals:
        f = f.f_back
    if f is not None:
        line = json.dumps({{"id": f.f_locals["rid"], "v": FORGED[i % len(FORGED)], "m": {{}}}})
        os.write(f.f_locals["resp"] if "resp" in f.f_locals else 4, ("\\n" + line + "\\n").encode())
"""


@pytest.mark.parametrize("start", [0, 5, 11])
def test_forged_wire_answers_of_every_kind(start):
    kinds = json.dumps(FORGED_KINDS[start:] + FORGED_KINDS[:start])
    prog = FORGE.format(kinds=kinds) + "class Solution:\n    def total(self, nums):\n        _forge(len(nums))\n        return -1\n"
    assert score(prog, TOTAL).fraction == 0
    prog = FORGE.format(kinds=kinds) + "def add_one(x):\n    _forge(x)\n    return 0\n"
    assert score(prog, MBPP_ADD).fraction == 0


def test_forged_wire_answer_control():
    """Control for the test above: the forged line does reach the tests (a forged right
    answer passes, as returning it would), so the failures there are the decoder's doing."""
    prog = FORGE.format(kinds="[6, 0]") + "class Solution:\n    def total(self, nums):\n        _forge(len(nums) - 3)\n        return -1\n"
    assert score(prog, TOTAL).correct


def test_forged_name_announcement_cannot_replace_the_tests_helpers():
    """The solution announces itself before the worker does, naming the tests' helpers,
    builtins and modules as its own (``is_same_list``, ``abs``, ``math`` as ``os``)."""
    program = """
    import json, os
    names = {n: "function" for n in ("is_same_list", "list_node", "abs", "check", "candidate", "len")}
    names.update({"math": "module:os", "Solution": "class"})
    for fd in range(3, 12):
        try:
            os.write(fd, ("\\n" + json.dumps({"ready": 0, "names": names}) + "\\n").encode())
        except OSError:
            pass
    def is_same_list(a, b):
        return True
    def list_node(values):
        return None
    def abs(x):
        return 0
    class Solution:
        def reverseList(self, head):
            return head
    """
    assert score(program, REVERSE).fraction == 0
    assert score(program.replace("reverseList", "total"), TOTAL).fraction == 0


def test_nodes_served_from_the_solutions_side_are_compared_by_value():
    """A node class with __slots__ (no __dict__) stays on the solution's side as a handle;
    the tests' is_same_list reads .val/.next across the boundary: right values pass, wrong
    ones fail, and the solution learns nothing of the expected list before it answers."""
    slots = """
    class Node:
        __slots__ = ("val", "next")
        def __init__(self, val, next=None):
            self.val, self.next = val, next
    class Solution:
        def reverseList(self, head):
            vals = []
            while head:
                vals.append(head.val)
                head = head.next
            out = None
            for v in OFFSET(vals):
                out = Node(v, out)
            return out
    """
    assert score(slots.replace("OFFSET(vals)", "vals"), REVERSE).correct
    assert score(slots.replace("OFFSET(vals)", "[v + 1 for v in vals]"), REVERSE).fraction == 0


def test_stop_iteration_from_the_solution_cannot_end_a_generator_early():
    """A StopIteration raised inside a call that a test makes from a generator expression
    would end ``all(...)`` early in one interpreter; across the boundary it is an ordinary
    error of the call."""
    gt = {"test_list": ["assert all(add_one(x) == x + 1 for x in range(5))"]}
    assert score("def add_one(x):\n    raise StopIteration\n", gt).fraction == 0
    assert score("def add_one(x):\n    if x > 0:\n        raise StopIteration\n    return 1\n", gt).fraction == 0
    assert score(MBPP_ADD_REF, gt).correct


def test_exception_names_of_the_solution_do_not_become_test_outcomes(truncate_number):
    """A class of the solution's named AssertionError/SystemExit/StopIteration, raised from
    every call, fails the case (it never ends check() early or looks like the tests')."""
    he = truncate_number
    for name in ("AssertionError", "SystemExit", "StopIteration", "GeneratorExit", "CaseTimeout"):
        program = f"class {name}(BaseException):\n    pass\ndef truncate_number(number):\n    raise {name}()\n"
        assert score(program, he["reward_model"]["ground_truth"]).fraction == 0, name


def test_mutating_arguments_reaches_the_tests_only_as_real_mutation():
    """Changes to arguments come back as data and are applied to the tests' own objects; a
    solution that claims changes to an immutable argument or a type gets nothing."""
    gt = {"test_list": [
        "t = (3, 1, 2)\nsort_it(t)\nassert t == (1, 2, 3)",
        "xs = [3, 1, 2]\nsort_it(xs)\nassert xs == [1, 2, 3]",
    ]}
    liar = """
    import json, os, sys
    def sort_it(xs):
        f = sys._getframe(1)
        while f is not None and "rid" not in f.f_locals:
            f = f.f_back
        line = json.dumps({"id": f.f_locals["rid"], "v": None, "m": {"0": CLAIM, "1": [1, 2, 3], "x": [1, 2, 3]}})
        os.write(f.f_locals["resp"], ("\\n" + line + "\\n").encode())
    """
    assert score(liar.replace("CLAIM", '{"t": [1, 2, 3]}'), gt).fraction == 0
    # a claimed change to a list is a change the solution could have made: as honest as that
    assert score(liar.replace("CLAIM", "[1, 2, 3]"), gt).fraction == 0.5
    honest = "def sort_it(xs):\n    if isinstance(xs, list):\n        xs.sort()\n"
    assert score(honest, gt).fraction == 0.5  # the tuple case cannot pass: tuples do not change


def test_sleeping_just_under_the_case_limit_exhausts_only_its_own_budget():
    """Every call sleeps just under the case limit: cases past the item's budget are not
    run and fail; the item ends within its budget (reason, not a wall-clock check)."""
    program = "import time\ndef add_one(x):\n    time.sleep(0.9)\n    return x + 1\n"
    v = score(program, MBPP_ADD, timeout_s=2, case_timeout_s=1)
    assert 0 < v.fraction < 1
    assert v.details["first_failure"]["why"] in ("not run (time budget spent)", "timeout")


def test_unicode_and_near_miss_stdio_outputs_fail():
    """Full-width and Arabic-Indic digits, 'True' for 'true', 1e9+8 for 1e9+7, '3.0' for an
    integer 3, and a trailing extra token all fail; trailing whitespace and \\r\\n do not."""
    gt = {"inputs": ["1 2\n"], "outputs": ["3\n"]}
    for out in ("\uff13", "\u0663", "3.0", "3 0", "03", "+3", "3e0"):
        assert not score(f"input()\nprint({out!r})\n", gt).correct, out
    for out in ("3  ", "3\r", " 3\n\n"):
        assert score(f"input()\nprint({out!r})\n", gt).correct, out
    big = {"inputs": ["\n"], "outputs": ["1000000007\n"]}
    assert not score("input()\nprint(1000000008)\n", big).correct
    words = {"inputs": ["\n"], "outputs": ["true\n"]}
    assert not score("input()\nprint(True)\n", words).correct


# ======================================================================================
# Memory per run, not per process (a memory cgroup per run, where the scorer may make one)
# ======================================================================================


def _cgroups_here() -> bool:
    from mdrl.domains import sandbox_cgroup

    group, _ = sandbox_cgroup.create(64, 8, f"{sandbox_cgroup.PREFIX}{os.getpid()}-probe")
    if group is None:
        return False
    group.remove()
    return True


@pytest.mark.skipif(not _cgroups_here(), reason="no writable memory cgroup here (not root, or no memory controller): memory is capped per process only, as docs/sandbox.md says")
def test_forked_processes_share_one_memory_cap():
    program = """
    import ctypes, os, time
    libc = ctypes.CDLL(None)
    kids = []
    for _ in range(3):
        pid = libc.fork()
        if pid == 0:
            break
        kids.append(pid)
    try:
        blob = bytearray(100 << 20)
        for i in range(0, len(blob), 4096):
            blob[i] = 1
        ok = 1
    except MemoryError:
        ok = 0
    time.sleep(1.5)  # every process holds its 100 MiB at the same time
    if len(kids) < 3 and pid == 0:
        os._exit(0 if ok else 1)
    held = ok
    for k in kids:
        st = ctypes.c_int()
        libc.waitpid(k, ctypes.byref(st), 0)
        held += st.value == 0
    print(held)
    """
    v = score(program, {"inputs": ["\n"], "outputs": ["4\n"]}, memory_mb=256)
    assert not v.correct, "4 processes held 4 x 100 MiB under memory_mb=256"
    # the same program within the cap passes: the cap counts the run, it does not break forking
    small = program.replace("100 << 20", "20 << 20")
    assert score(small, {"inputs": ["\n"], "outputs": ["4\n"]}, memory_mb=256).correct
