"""Code domain: sandbox limits, verifier verdicts (gold passes, wrong fails, attacks score 0), loaders."""

from __future__ import annotations

import json
import os
import random
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

import mdrl.domains.code_domain as code_domain
from mdrl.domains.base import domain_for_source
from mdrl.domains.code_domain import (
    DEFAULT_TIMEOUT_S,
    call_match,
    extract_code,
    load_coder1,
    load_humaneval,
    load_leetcode,
    load_mbpp,
    stdio_match,
    verify,
)
from mdrl.domains.row_io import DataFileError
from mdrl.domains.sandbox import probe, run_program

CODER1_TEST = "dcs/code-r1-12k/test.parquet"


def fenced(code: str) -> str:
    return f"Here is the solution.\n```python\n{code}\n```"


def verify_all(pairs: list[tuple[str, object]], **options) -> list:
    """Verdicts for (code, ground_truth) pairs, two at a time (one sandbox run each)."""
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda p: verify(fenced(p[0]), p[1], None, **options), pairs))


def descendants() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


@pytest.fixture(scope="module")
def coder1_rows(shared_data: Path) -> list[dict]:
    return load_coder1(str(shared_data / CODER1_TEST), "test")


@pytest.fixture(scope="module")
def leetcode_rows(coder1_rows: list[dict]) -> list[dict]:
    rows = [r for r in coder1_rows if r["extra_info"]["dataset"] == "LeetCodeDataset"]
    assert len(rows) == 200 and all(r["extra_info"]["reference"] for r in rows)
    return rows


@pytest.fixture(scope="module")
def isolation() -> dict:
    return probe()


@pytest.fixture
def slow_enabled(request) -> None:
    """Full-dataset checks run with ``-m slow`` or MDRL_SLOW=1 (about half a minute each)."""
    if not (os.environ.get("MDRL_SLOW") or "slow" in (request.config.getoption("markexpr") or "")):
        pytest.skip("full-dataset check: run with -m slow or MDRL_SLOW=1")


# --------------------------------------------------------------------------------------
# answer extraction, comparison rules, registry
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("```python\nprint(1)\n```", "print(1)"),
        ("```py\na = 1\n```\ntext\n```Python\nb = 2\n```", "b = 2"),
        ("```python\nfirst\n```\n```cpp\nint x;\n```", "first"),
        ("```\nuntagged = 1\n```", "untagged = 1"),
        ("  ```python\n  x = 1\n  y = 2\n  ```", "x = 1\ny = 2"),
        ("no code here", None),
        ("```cpp\nint main() {}\n```", None),
        ("```python\n\n```", None),
    ],
)
def test_extract_code_takes_last_python_block(answer, expected):
    assert extract_code(answer) == expected


def test_no_code_block_is_wrong():
    v = verify("def f(): pass", json.dumps({"functional": "assert True"}))
    assert not v.correct and v.details["reason"] == "no python code block"


def test_stdio_and_call_comparison_rules():
    assert stdio_match("3", "3\n")
    assert stdio_match("1 2\n3\n", "1 2 3")
    assert stdio_match("0.3333333", "0.33333333")
    assert not stdio_match("0.334", "0.333")
    assert not stdio_match("1 2", "1 2 3")
    assert not stdio_match("YES", "yes")
    assert call_match([1, 2], [[1, 2]]) and call_match(3, 3.0000000001) and not call_match([2, 1], [1, 2])


def test_registered_for_its_sources():
    for src in ("code", "CodeR1", "leetcode", "taco", "humaneval", "mbpp"):
        dom = domain_for_source(src)
        assert dom is not None and dom.name == "code" and dom.verify is verify
    # the item limit must leave room for the whole program budget plus the harness
    assert code_domain.DOMAIN.timeout_s >= DEFAULT_TIMEOUT_S + code_domain.HARNESS_GRACE_S


@pytest.mark.parametrize("gt", [None, "not json", "[]", json.dumps({"weird": 1}), {"inputs": [], "outputs": []}, 42])
def test_verify_never_raises_on_bad_ground_truth(gt):
    v = verify(fenced("print(1)"), gt)
    assert not v.correct and v.fraction == 0 and v.details["reason"].startswith("unusable ground truth")


# --------------------------------------------------------------------------------------
# gold solutions pass, wrong ones fail
# --------------------------------------------------------------------------------------


def test_leetcode_gold_sample_passes(leetcode_rows):
    sample = random.Random(0).sample(leetcode_rows, 30)
    verdicts = verify_all([(r["extra_info"]["reference"], r["reward_model"]["ground_truth"]) for r in sample])
    failed = [(r["extra_info"]["task_id"], v.details) for r, v in zip(sample, verdicts) if not v.correct]
    assert not failed
    assert all(v.fraction == 1.0 and v.details["passed"] == v.details["total"] == 1 for v in verdicts)


@pytest.mark.slow
def test_leetcode_gold_all_200_pass(leetcode_rows, slow_enabled):
    verdicts = verify_all([(r["extra_info"]["reference"], r["reward_model"]["ground_truth"]) for r in leetcode_rows])
    failed = [(r["extra_info"]["task_id"], v.details) for r, v in zip(leetcode_rows, verdicts) if not v.correct]
    assert not failed


def _off_by_one(code: str, method: str) -> str:
    return code + (
        f"\n\n_right = Solution.{method}\n"
        "def _wrong(self, *args, **kwargs):\n"
        "    r = _right(self, *args, **kwargs)\n"
        "    if isinstance(r, bool):\n        return not r\n"
        "    if isinstance(r, (int, float)):\n        return r + 1\n"
        "    if isinstance(r, str):\n        return r + 'x'\n"
        "    if isinstance(r, list):\n        return r + [0]\n"
        "    return None\n"
        f"Solution.{method} = _wrong\n"
    )


def test_leetcode_perturbed_solutions_fail(leetcode_rows):
    sample = random.Random(1).sample(leetcode_rows, 10)
    pairs = []
    for r in sample:
        method = json.loads(r["reward_model"]["ground_truth"])["functional"].strip().splitlines()[-1]
        method = method.split(".")[-1].rstrip(")")
        gt = r["reward_model"]["ground_truth"]
        pairs.append((_off_by_one(r["extra_info"]["reference"], method), gt))
        pairs.append((f"class Solution:\n    def {method}(self, *args, **kwargs):\n        return None\n", gt))
    verdicts = verify_all(pairs)
    assert not [v.details for v in verdicts if v.correct or v.fraction != 0]


def test_humaneval_canonical_sample_passes_and_wrong_fails():
    rows = random.Random(2).sample(load_humaneval(), 12)
    pairs = [(r["extra_info"]["reference"], r["reward_model"]["ground_truth"]) for r in rows]
    wrong = [(f"def {json.loads(r['reward_model']['ground_truth'])['entry_point']}(*args):\n    return None\n",
              r["reward_model"]["ground_truth"]) for r in rows[:4]]
    verdicts = verify_all(pairs + wrong)
    assert all(v.correct for v in verdicts[: len(pairs)]), [v.details for v in verdicts if not v.correct]
    assert not any(v.correct for v in verdicts[len(pairs):])


def test_humaneval_solution_may_rely_on_prompt_helpers():
    row = next(r for r in load_humaneval() if r["extra_info"]["task_id"] == "HumanEval/10")
    # make_palindrome calls is_palindrome, which only the prompt defines
    only_target = (
        "def make_palindrome(string: str) -> str:\n"
        "    for i in range(len(string) + 1):\n"
        "        if is_palindrome(string[i:]):\n"
        "            return string + string[:i][::-1]\n"
    )
    assert verify(fenced(only_target), row["reward_model"]["ground_truth"]).correct


@pytest.mark.slow
def test_humaneval_all_canonical_pass(slow_enabled):
    rows = load_humaneval()
    verdicts = verify_all([(r["extra_info"]["reference"], r["reward_model"]["ground_truth"]) for r in rows])
    assert not [(r["extra_info"]["task_id"], v.details) for r, v in zip(rows, verdicts) if not v.correct]


def test_mbpp_reference_code_passes(shared_data):
    sanitized = load_mbpp(str(shared_data / "mbpp/sanitized-mbpp.json"), "test")
    original = load_mbpp(str(shared_data / "mbpp/mbpp.jsonl"), "all")
    with_setup = [r for r in original if json.loads(r["reward_model"]["ground_truth"])["test_setup_code"]]
    with_imports = [r for r in sanitized if json.loads(r["reward_model"]["ground_truth"])["test_imports"]]
    rows = random.Random(3).sample(sanitized, 8) + random.Random(4).sample(original, 4) + with_setup + with_imports[:2]
    verdicts = verify_all([(r["extra_info"]["reference"], r["reward_model"]["ground_truth"]) for r in rows], timeout_s=30)
    assert not [(r["extra_info"]["task_id"], v.details) for r, v in zip(rows, verdicts) if not v.correct]
    assert all(v.details["total"] == len(json.loads(r["reward_model"]["ground_truth"])["test_list"]) for r, v in zip(rows, verdicts))


@pytest.mark.slow
def test_mbpp_all_references_pass(shared_data, slow_enabled):
    """Every reference of sanitized MBPP (427) and original MBPP (974) passes its asserts."""
    rows = load_mbpp(str(shared_data / "mbpp/sanitized-mbpp.json"), "all") + load_mbpp(str(shared_data / "mbpp/mbpp.jsonl"), "all")
    verdicts = verify_all([(r["extra_info"]["reference"], r["reward_model"]["ground_truth"]) for r in rows], timeout_s=30)
    assert not [(r["extra_info"]["task_id"], v.details) for r, v in zip(rows, verdicts) if not v.correct]


def test_mbpp_asserts_pay_separately():
    gt = {"test_list": ["assert f(1) == 2", "assert f(2) == 3", "assert f(3) == 5"]}
    v = verify(fenced("def f(x):\n    return x + 1"), gt)
    assert not v.correct and v.fraction == pytest.approx(2 / 3) and v.details["passed"] == 2


def test_taco_reference_sample(coder1_rows):
    taco = [r for r in coder1_rows if r["extra_info"]["dataset"] != "LeetCodeDataset"]
    sample = random.Random(5).sample(taco, 16)
    verdicts = verify_all([(r["extra_info"]["reference"], r["reward_model"]["ground_truth"]) for r in sample])
    # references are TACO's first listed solution, not the verified one: a few do not even
    # compile, but a reference that runs must pass every case
    assert sum(v.correct for v in verdicts) >= 14
    assert all(v.correct or v.details["reason"].startswith("program failed before the tests") for v in verdicts)


# --------------------------------------------------------------------------------------
# stdin/stdout and call-based cases
# --------------------------------------------------------------------------------------

SUM_GT = {"inputs": ["1 2\n", "3 4\n", "10 20\n", "5 5"], "outputs": ["3\n", "7", "30\n", "10\n"]}


@pytest.mark.parametrize(
    "program",
    [
        "a, b = map(int, input().split())\nprint(a + b)",
        "import sys\na, b = map(int, sys.stdin.buffer.read().split())\nsys.stdout.write(str(a + b))",
        "a, b = map(int, open(0).read().split())\nprint(a + b)\nexit()",
        "import os\na, b = map(int, os.read(0, 100).split())\nos.write(1, f'{a + b}\\n'.encode())",
        # the threading idiom for deep recursion, and output flushed by an atexit hook
        "import threading, sys, io, atexit\nout = io.StringIO()\n"
        "atexit.register(lambda: sys.__stdout__.write(out.getvalue()))\n"
        "def main():\n    a, b = map(int, input().split())\n    out.write(str(a + b))\n"
        "threading.Thread(target=main).start()",
    ],
)
def test_stdio_program_passes(program):
    v = verify(fenced(program), json.dumps(SUM_GT))
    assert v.correct and v.fraction == 1.0 and v.details["passed"] == 4, v.details


def test_stdio_half_correct_program_gets_half():
    program = "a, b = map(int, input().split())\nprint(a + b if a < 4 else a - b)"
    v = verify(fenced(program), SUM_GT)
    assert not v.correct and v.fraction == 0.5 and (v.details["passed"], v.details["total"]) == (2, 4)


def test_stdio_failures_are_per_case():
    gt = {"inputs": ["1\n", "2\n", "3\n", "4\n"], "outputs": ["1.0000001\n", "2\n", "3\n", "4\n"]}
    program = (
        "import sys\nn = int(input())\n"
        "if n == 2:\n    raise ValueError('boom')\n"
        "if n == 3:\n    print(n)\n    sys.exit(1)\n"  # a non-zero exit is a runtime error
        "if n == 4:\n    while True: pass\n"
        "print(n)"
    )
    v = verify(fenced(program), gt, timeout_s=6, case_timeout_s=1)
    assert v.fraction == 0.25 and v.details["first_failure"]["case"] == 1


def test_call_based_cases():
    gt = {"fn_name": "add", "inputs": [[1, 2], [3, 4], [0.1, 0.2]], "outputs": [[3], [7], [0.3]]}
    assert verify(fenced("def add(a, b):\n    return a + b"), gt).correct
    assert verify(fenced("class Solution:\n    def add(self, a, b):\n        return a + b"), gt).correct
    assert verify(fenced("def add(a, b):\n    return a + b if a < 2 else 0"), gt).fraction == pytest.approx(2 / 3)
    rigged = "class A:\n    def __eq__(self, other):\n        return True\ndef add(a, b):\n    return A()"
    assert verify(fenced(rigged), gt).fraction == 0


# --------------------------------------------------------------------------------------
# attacks through the verifier: each must score 0 and leave nothing behind
# --------------------------------------------------------------------------------------

TOTAL_GT = json.dumps({
    "functional": "def check(candidate):\n    assert candidate([1, 2, 3]) == 6\n    assert candidate([]) == 0\n\n"
                  "check(Solution().total)"
})
WRONG = "class Solution:\n    def total(self, nums):\n        return -1\n"
RIGHT = "class Solution:\n    def total(self, nums):\n        return sum(nums)\n"
FAKE_REPORT = "0" * 32 + ' {"total": 1, "results": [{"i": 0, "s": "ok"}], "setup_error": null}'
ATTACKS = {
    "sys_exit": "import sys\nsys.exit(0)\n" + WRONG,
    "os_exit": "import os\nos._exit(0)\n" + WRONG,
    "posix_exit": "import posix\nposix._exit(0)\n" + WRONG,
    "libc_exit": "import ctypes\nctypes.CDLL(None)._exit(0)\n" + WRONG,
    "raise_systemexit": "raise SystemExit(0)\n" + WRONG,
    "atexit_hook": "import atexit, os\natexit.register(lambda: print('ok'))\natexit.register(os._exit, 0)\n" + WRONG,
    "fake_marker": f"import os\nprint({FAKE_REPORT!r}, flush=True)\nos.write(1, {FAKE_REPORT!r}.encode() + b'\\n')\n" + WRONG,
    "steal_nonce": (
        "import os, sys\nleak = sys.stdin.read()\n"
        "for p in ('/proc/1/fd/0', f'/proc/{os.getppid()}/fd/0', f'/proc/{os.getppid()}/mem'):\n"
        "    try:\n        leak += open(p, 'rb').read(64).decode()\n    except Exception:\n        pass\n"
        "print(leak)\n" + WRONG
    ),
    "kill_parent": "import os, ctypes\nctypes.CDLL(None).kill(os.getppid(), 9)\nos.kill(os.getppid(), 9)\n" + WRONG,
    "infinite_loop": "while True:\n    pass\n" + RIGHT,
    "memory_6gb": "blob = bytearray(6 * 1024 ** 3)\n" + RIGHT,
    "fork_bomb": "import ctypes\nlibc = ctypes.CDLL(None)\nwhile True:\n    libc.fork()\n",
    "setsid_sleeper": (
        "import ctypes, time\nlibc = ctypes.CDLL(None)\n"
        "if libc.fork() == 0:\n    libc.setsid()\n    if libc.fork() == 0:\n        time.sleep(600)\n    libc._exit(0)\n" + WRONG
    ),
    "output_flood": "while True:\n    print('x' * 10000)\n",
    "rigged_eq": "class Any:\n    def __eq__(self, other):\n        return True\n"
                 "class Solution:\n    def total(self, nums):\n        return Any()\n",
    "patch_builtins": "import builtins\nbuiltins.exec = builtins.eval = lambda *a, **k: None\n" + WRONG,
    "own_check": "def check(candidate):\n    pass\n" + WRONG,
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_scores_zero(name):
    before = descendants()
    v = verify(fenced(ATTACKS[name]), TOTAL_GT, timeout_s=2)
    assert not v.correct and v.fraction == 0, v.details
    assert descendants() <= before  # every process of the run is gone (and reaped)
    assert verify(fenced(RIGHT), TOTAL_GT).correct  # and the scorer still works


def test_attack_side_channels_score_zero(tmp_path):
    """Files written "outside" never reach this machine; the solution is right only online."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.2)
    outside = [tmp_path / "escaped", Path("/tmp") / f"mdrl-escape-{uuid.uuid4().hex}"]
    program = (
        "import socket\nok = 0\n"
        f"for p in {[str(p) for p in outside]!r}:\n"
        "    try:\n        open(p, 'w').write('x')\n    except OSError:\n        pass\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {srv.getsockname()[1]}), timeout=1).sendall(b'hi')\n"
        "    ok += 1\nexcept OSError:\n    pass\n"
        "class Solution:\n    def total(self, nums):\n        return sum(nums) if ok else -1\n"
    )
    try:
        v = verify(fenced(program), TOTAL_GT, timeout_s=4)
        assert not v.correct
        assert not any(p.exists() for p in outside)
        with pytest.raises(socket.timeout):
            srv.accept()
    finally:
        srv.close()
        for p in outside:
            p.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------
# the sandbox itself, with the in-interpreter guard off (the OS layers alone)
# --------------------------------------------------------------------------------------


def test_sandbox_sees_the_site_packages_of_a_virtualenv_scorer(tmp_path):
    """The child runs with -S (no venv detection): it must still get the scorer's venv mounted."""
    import subprocess
    import sys

    import site
    import sysconfig

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    # --system-site-packages gives the base interpreter's packages, not those of the venv
    # running these tests (where mdrl and its dependencies are): chain them in
    inner = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                           capture_output=True, text=True, check=True).stdout.strip()
    outer = [sysconfig.get_paths()["purelib"], *site.getsitepackages()]
    Path(inner, "outer_venv.pth").write_text("".join(f"import site; site.addsitedir({p!r})\n" for p in dict.fromkeys(outer)))
    marker = venv / "lib" / "marker_pkg_for_mdrl.py"
    marker.write_text("VALUE = 42\n")
    probe = (
        "from mdrl.domains.sandbox import run_program\n"
        f"r = run_program({f'import sys; sys.path.append({str(marker.parent)!r}); import marker_pkg_for_mdrl as m; print(m.VALUE)'!r})\n"
        "print(r.stdout.strip() or r.stderr)"
    )
    out = subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().endswith("42"), out.stdout + out.stderr


def test_sandbox_runs_normal_programs():
    r = run_program("import sys, sortedcontainers\nprint(input()[::-1], sys.version_info[0])\nexit(3)", stdin="abc\n")
    assert r.stdout == "cba 3\n" and r.returncode == 3 and not r.timed_out
    r = run_program("import os\nos.system('true')")
    assert r.returncode == 1 and "disabled in the sandbox" in r.stderr


def test_sandbox_limits():
    r = run_program("while True:\n    pass", timeout_s=1, guard=False)
    assert r.timed_out and r.killed_reason == "timeout" and r.wall_s < 5
    r = run_program("blob = bytearray(6 * 1024 ** 3)", guard=False)
    assert r.returncode != 0 and "MemoryError" in r.stderr
    r = run_program("while True:\n    print('x' * 1000)", output_limit=10_000, guard=False)
    assert r.killed_reason == "output_limit" and len(r.stdout) <= 10_000


def test_sandbox_cannot_kill_the_scorer(isolation):
    r = run_program(f"import os\nos.kill({os.getpid()}, 9)\nprint('sent')", guard=False)
    assert r.returncode != 0 and "sent" not in r.stdout
    if isolation.get("uid") is None and "pid" not in isolation.get("namespaces", []):
        pytest.skip("no uid of its own and no pid namespace here: kill(-1) would hit this machine")
    r = run_program("import os\nos.kill(-1, 9)", guard=False)
    assert psutil.pid_exists(os.getpid())


ESCAPEES = """
import json, sys, threading, time
import psutil
from mdrl.domains.sandbox import run_program

mode, foreign = sys.argv[1], sys.argv[2] == "foreign"
if foreign:  # another library's thread, which might be waiting for a child of its own
    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
me = psutil.Process()
before = {p.pid for p in me.children(recursive=True)}
escapee = (
    "import os, time\\n"
    "if os.fork() == 0:\\n    os.setsid()\\n    if os.fork() == 0:\\n        time.sleep(600)\\n    os._exit(0)\\n"
    "time.sleep(0.2)\\nprint('parent done')"
)
out = {"stdout": run_program(escapee, timeout_s=5, guard=False, isolation=mode).stdout}
out["left_after_escapee"] = sorted({p.pid for p in me.children(recursive=True)} - before)
if mode == "auto":
    r = run_program("import os\\nwhile True:\\n    try:\\n        os.fork()\\n    except OSError:\\n        pass", timeout_s=2, guard=False)
    out["bomb_timed_out"] = r.timed_out
    out["left_after_bomb"] = sorted({p.pid for p in me.children(recursive=True)} - before)
    uid = r.isolation.get("uid")
    out["uid_left"] = uid is not None and any(p.info["uids"] and p.info["uids"].real == uid for p in psutil.process_iter(["uids"]))
print(json.dumps(out))
"""


@pytest.mark.parametrize("mode", ["auto", "basic"])
def test_sandbox_kills_fork_bombs_and_escapees(mode, isolation):
    """A double-forked, setsid'd escapee and a fork bomb leave no process and no zombie.

    Run in a fresh scorer process (as the scoring pool's workers are), so threads other
    test modules leave behind in this one do not change what the sandbox may reap."""
    import subprocess
    import sys

    if mode == "auto" and isolation.get("uid") is None and "pid" not in isolation.get("namespaces", []):
        pytest.skip("no uid of its own and no pid namespace: the fork bomb would run as this user")
    proc = subprocess.run([sys.executable, "-c", ESCAPEES, mode, "plain"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["stdout"] == "parent done\n"
    assert out["left_after_escapee"] == []
    if mode == "auto":
        assert out["bomb_timed_out"] and out["left_after_bomb"] == [] and not out["uid_left"]


def test_an_escapees_zombie_is_left_alone_while_a_foreign_thread_may_wait_for_children():
    """With another library's thread alive, the sandbox does not reap zombies it cannot
    prove are the run's (that thread might be waiting for a child of its own): the
    setsid'd escapee's exited parent stays a zombie rather than a foreign child being taken."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", ESCAPEES, "basic", "foreign"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["stdout"] == "parent done\n" and len(out["left_after_escapee"]) == 1


def test_sandbox_filesystem_and_network(tmp_path, shared_data, isolation):
    if isolation.get("fs") != "private root" or "net" not in isolation.get("namespaces", []):
        pytest.skip(f"namespaces unavailable here: {isolation}")
    target = Path("/tmp") / f"mdrl-escape-{uuid.uuid4().hex}"
    program = (
        "import os, socket\n"
        f"for p in ({str(tmp_path / 'x')!r}, {str(target)!r}, 'relative-ok'):\n"
        "    try:\n        open(p, 'w').write('x'); print('wrote', p)\n    except OSError as e:\n        print('refused', p)\n"
        f"print('data visible', os.path.exists({str(shared_data)!r}))\n"
        "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=1); print('online')\n"
        "except OSError:\n    print('offline')\n"
    )
    try:
        r = run_program(program, guard=False)
        assert "wrote relative-ok" in r.stdout and "data visible False" in r.stdout and "offline" in r.stdout
        assert not (tmp_path / "x").exists() and not target.exists()
    finally:
        target.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------
# loaders
# --------------------------------------------------------------------------------------


def test_load_coder1_released_file(coder1_rows):
    assert len(coder1_rows) == 712
    modes = {tuple(sorted(json.loads(r["reward_model"]["ground_truth"]))) for r in coder1_rows}
    assert modes == {("functional",), ("inputs", "outputs")}
    for r in coder1_rows:
        assert r["data_source"] == "code" and r["ability"] == "coding"
        q = r["extra_info"]["question"]
        assert q and not q.startswith(("Please solve", "Solve the programming task"))


def test_load_leetcode_jsonl(shared_data):
    rows = load_leetcode(str(shared_data / "leetcodedataset/LeetCodeDataset-v0.2.0-test.jsonl.gz"), "test")
    assert len(rows) == 200 and rows[0]["data_source"] == "leetcode"
    gt = json.loads(rows[0]["reward_model"]["ground_truth"])
    assert gt["functional"].rstrip().endswith("check(Solution().minOperations)")
    assert verify(fenced(rows[0]["extra_info"]["reference"]), rows[0]["reward_model"]["ground_truth"]).correct


def test_load_humaneval_from_package():
    rows = load_humaneval()
    assert len(rows) == 164 and {r["data_source"] for r in rows} == {"humaneval"}
    gt = json.loads(rows[0]["reward_model"]["ground_truth"])
    assert {"test", "entry_point", "prelude"} <= set(gt)


def test_load_mbpp_splits(shared_data):
    sanitized = str(shared_data / "mbpp/sanitized-mbpp.json")
    test = load_mbpp(sanitized, "test")
    assert len(test) == 257 and all(11 <= r["extra_info"]["task_id"] <= 510 for r in test)
    assert len(load_mbpp(sanitized, "all")) == 427
    assert len(load_mbpp(str(shared_data / "mbpp/mbpp.jsonl"), "test")) == 500
    assert "Your code should pass these tests" in test[0]["extra_info"]["question"]
    with pytest.raises(DataFileError):
        load_mbpp(sanitized, "nonsense")
