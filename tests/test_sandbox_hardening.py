"""Sandbox hardening: memory no rlimit counts, leaked work dirs, weaker hosts and the
isolation floor, linear code-fence extraction, and math's subscripted gold answers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from mdrl.domains import sandbox
from mdrl.domains.code_domain import extract_code, fenced_blocks, verify
from mdrl.domains.math_domain import verify as math_verify
from mdrl.domains.sandbox import isolation_level, probe, run_program

TOTAL_GT = json.dumps({
    "functional": "def check(candidate):\n    assert candidate([1, 2, 3]) == 6\n    assert candidate([]) == 0\n\n"
                  "check(Solution().total)"
})
RIGHT = "class Solution:\n    def total(self, nums):\n        return sum(nums)\n"
WRONG_FORGER = (
    "import os, json\n"
    "for fd in range(3, 100):\n"
    "    try:\n        os.write(fd, (json.dumps({'id': 1, 'v': 6}) + '\\n').encode())\n"
    "    except OSError:\n        pass\n"
    "class Solution:\n    def total(self, nums):\n        return -1\n"
)


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


# --------------------------------------------------------------------------------------
# memory that RLIMIT_AS does not count
# --------------------------------------------------------------------------------------

MEMFD_PROGRAM = """
import os
made, refused = 0, None
fds = []
for _ in range(6):
    try:
        fd = os.memfd_create("blob")
        os.ftruncate(fd, 60 * 2 ** 20)
        os.write(fd, b"x" * (60 * 2 ** 20))
        fds.append(fd)
        made += 1
    except OSError as exc:
        refused = exc.errno
        break
shm = 0
try:
    with open("/dev/shm/blob", "wb") as fh:
        for _ in range(64):
            fh.write(b"x" * 2 ** 20)
            shm += 1
except OSError:
    pass
import ctypes
sysv = ctypes.CDLL(None, use_errno=True).shmget(0, 60 * 2 ** 20, 0o1000 | 0o600)
print(made, refused, shm, sysv)
"""


def test_memfd_and_shared_memory_are_capped():
    """Six 60 MiB memfds under a 256 MiB cap: refused by seccomp, else bounded by the fd cap."""
    r = run_program(MEMFD_PROGRAM, timeout_s=20, memory_mb=256, guard=False)
    made, refused, shm, sysv = r.stdout.split()
    layers = r.isolation["memory"]
    if any(layer.startswith("seccomp") for layer in layers):  # the layer that held is named
        assert (made, refused, sysv) == ("0", "1", "-1")  # EPERM, and no System V segment
    else:
        assert any(layer.startswith("rlimit_nofile") for layer in layers)
    if r.isolation.get("fs") == "private root":
        assert int(shm) <= 1 and any("/dev/shm 1 MiB" in layer for layer in layers)


def test_descriptor_limit_caps_open_files():
    """The layer under seccomp: RLIMIT_NOFILE caps how many (size-capped) files stay open."""
    program = "import os\nn = 0\ntry:\n    while True:\n        os.open('/dev/null', os.O_RDONLY)\n        n += 1\nexcept OSError:\n    print(n)"
    r = run_program(program, guard=False, nofile=64)
    assert 0 < int(r.stdout) <= 64


# --------------------------------------------------------------------------------------
# work directories of killed scorers
# --------------------------------------------------------------------------------------


def test_workdirs_of_killed_scorers_are_removed():
    """A scorer killed mid-run (an item limit) leaves its work dir; the next run removes it."""
    code = "from mdrl.domains.sandbox import run_program\nrun_program('import time\\ntime.sleep(60)', timeout_s=60)\n"
    proc = subprocess.Popen([sys.executable, "-c", code])
    base = Path(tempfile.gettempdir())
    pattern = f"{sandbox.WORKDIR_PREFIX}{proc.pid}-*"
    try:
        for _ in range(600):  # until its sandbox run has made its work dir
            if list(base.glob(pattern)):
                break
            time.sleep(0.05)
        assert list(base.glob(pattern))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert list(base.glob(pattern))  # the killed scorer could not clean up
    assert sandbox._clean_stale_workdirs(force=True) >= 1
    assert not list(base.glob(pattern))
    run_program("pass")  # and a normal run leaves nothing of its own
    assert not list(base.glob(f"{sandbox.WORKDIR_PREFIX}{os.getpid()}-*"))


# --------------------------------------------------------------------------------------
# weaker hosts: the forced no-namespaces mode and the floor
# --------------------------------------------------------------------------------------


def test_results_name_the_layers_of_both_processes():
    v = verify(fenced(RIGHT), TOTAL_GT)
    assert v.correct
    iso = v.details["isolation"]
    assert set(iso) == {"tests", "solution"}
    assert all(text.split(";")[0] in sandbox.LEVELS for text in iso.values())


@pytest.mark.parametrize("mode", ["no_namespaces", "basic"])
def test_forced_weak_mode_is_refused_below_the_floor(mode):
    info = probe(mode)
    assert not {"net", "pid", "mount"} & set(info["namespaces"])  # the mode really is forced
    level = isolation_level(info)
    assert level != "namespaces"
    v = verify(fenced(RIGHT), TOTAL_GT, isolation=mode)  # default floor: namespaces
    assert not v.correct and v.fraction == 0 and v.details["unscored"]
    assert f"min_isolation={level}" in v.details["reason"]
    assert v.details["isolation"]["host"].startswith(level)  # and which layers the host gives


@pytest.mark.parametrize("mode", ["no_namespaces", "basic"])
def test_forced_weak_mode_scores_when_accepted_and_still_resists_forgery(mode):
    level = isolation_level(probe(mode))
    right = verify(fenced(RIGHT), TOTAL_GT, isolation=mode, min_isolation=level)
    assert right.correct and right.details["isolation"]["solution"].startswith(level)
    forged = verify(fenced(WRONG_FORGER), TOTAL_GT, isolation=mode, min_isolation=level)
    assert not forged.correct and forged.fraction == 0


def test_a_bad_floor_setting_is_one_sentence():
    v = verify(fenced(RIGHT), TOTAL_GT, min_isolation="strong")
    assert not v.correct and v.details["reason"].startswith("min_isolation must be one of")


# --------------------------------------------------------------------------------------
# answer parsing: linear fence scan
# --------------------------------------------------------------------------------------


class CountingStr(str):
    """A str that counts the searches made in it."""

    finds = 0

    def find(self, *args):  # type: ignore[override]
        CountingStr.finds += 1
        return str.find(self, *args)


@pytest.mark.parametrize(
    "text",
    ["`" * 190_000, "```\n" + "`" * 190_000, "```python\n" + "`" * 190_000, ("```py\nx\n```\n" * 5000) + "`" * 190_000],
)
def test_fence_scan_does_bounded_work(text):
    CountingStr.finds = 0
    blocks = fenced_blocks(CountingStr(text))
    # three searches per block found, plus at most three that end the scan
    assert CountingStr.finds <= 3 * len(blocks) + 3


def test_backtick_flood_is_scored_within_the_item_limit():
    v = verify("`" * 190_000, TOTAL_GT)
    assert not v.correct and v.details["reason"] == "no python code block"
    assert extract_code("```python\n" + "`" * 190_000) is None


# --------------------------------------------------------------------------------------
# math: a subscript is not a base
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "gold, answer, correct",
    [("x_1", "x", False), ("x_1", "x_1", True), ("a_n", "a", False), ("52_8", "52", True), ("52_8", "52_9", False),
     ("10_2", "10", True), ("4210_{5}", "4210_5", True)],
)
def test_math_subscripted_gold(gold, answer, correct):
    assert math_verify(f"\\boxed{{{answer}}}", gold).correct is correct
