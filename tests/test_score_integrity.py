"""`mdrl score` never loses or mixes data: hostile files, reruns, kills and bad paths.

Every case runs the real console command on real files and checks the bytes left behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GOOD = {"data_source": "countdown", "response": "<think>t</think> <answer>1 + 2</answer>", "ground_truth": {"numbers": [1, 2], "target": 3}}
WRONG = {"data_source": "countdown", "response": "<think>t</think> <answer>1 * 2</answer>", "ground_truth": {"numbers": [1, 2], "target": 3}}


def score(*args: str, cwd: Path, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mdrl.cli", "score", "progress=false", "workers=1", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env,
    )


def write_items(path: Path, items: list[dict]) -> Path:
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    return path


def rows(path: Path) -> list[dict]:
    return [json.loads(l) for l in path.read_bytes().decode("utf-8").split("\n") if l]


def one_sentence(proc: subprocess.CompletedProcess, needle: str) -> None:
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert needle in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def items(prefix: str, n: int, good: bool = True) -> list[dict]:
    return [{"id": f"{prefix}{i}", **(GOOD if good else WRONG)} for i in range(n)]


# ------------------------------------------------------------------ reruns onto an existing output


def test_rerun_with_another_input_is_refused_and_changes_nothing(tmp_path):
    a = write_items(tmp_path / "a.jsonl", items("a", 3))
    b = write_items(tmp_path / "b.jsonl", items("b", 5, good=False))
    out = tmp_path / "out.jsonl"
    assert score(f"input={a}", f"output={out}", cwd=tmp_path).returncode == 0
    before, meta_before = out.read_bytes(), Path(f"{out}.meta.json").read_bytes()
    one_sentence(score(f"input={b}", f"output={out}", cwd=tmp_path), "was scored from a different input")
    assert out.read_bytes() == before and Path(f"{out}.meta.json").read_bytes() == meta_before


def test_rerun_with_another_reward_is_refused_and_meta_keeps_its_scheme(tmp_path):
    a = write_items(tmp_path / "a.jsonl", items("a", 3))
    out = tmp_path / "out.jsonl"
    assert score(f"input={a}", f"output={out}", "reward=binary", cwd=tmp_path).returncode == 0
    before = out.read_bytes()
    one_sentence(score(f"input={a}", f"output={out}", "reward=format", cwd=tmp_path), "other reward settings")
    assert out.read_bytes() == before
    meta = json.loads(Path(f"{out}.meta.json").read_text())
    assert meta["settings"]["scheme"] == "binary" and meta["config"]["reward"]["scheme"] == "binary"


def test_resume_false_starts_over_with_the_new_input_only(tmp_path):
    a = write_items(tmp_path / "a.jsonl", items("a", 3))
    b = write_items(tmp_path / "b.jsonl", items("b", 5, good=False))
    out = tmp_path / "out.jsonl"
    assert score(f"input={a}", f"output={out}", cwd=tmp_path).returncode == 0
    proc = score(f"input={b}", f"output={out}", "resume=false", "reward=format", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    got = rows(out)
    assert [r["id"] for r in got] == [f"b{i}" for i in range(5)]
    assert {r["details"]["scheme"] for r in got} == {"format"}
    meta = json.loads(Path(f"{out}.meta.json").read_text())
    assert meta["input"]["lines"] == 5 and meta["summary"]["status"] == "complete"


def test_output_without_meta_is_not_resumed_into(tmp_path):
    a = write_items(tmp_path / "a.jsonl", items("a", 3))
    out = tmp_path / "notes.jsonl"
    out.write_text('{"my": "own data"}\n')
    one_sentence(score(f"input={a}", f"output={out}", cwd=tmp_path), "does not record which input made it")
    assert out.read_text() == '{"my": "own data"}\n'


def test_finished_output_resumes_to_nothing(tmp_path):
    a = write_items(tmp_path / "a.jsonl", items("a", 3))
    out = tmp_path / "out.jsonl"
    assert score(f"input={a}", f"output={out}", cwd=tmp_path).returncode == 0
    before = out.read_bytes()
    again = score(f"input={a}", f"output={out}", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert out.read_bytes() == before
    summary = json.loads(Path(f"{out}.meta.json").read_text())["summary"]
    assert summary["scored_this_run"] == 0 and summary["resumed_after"] == 3


# ------------------------------------------------------------------ output == input


@pytest.mark.parametrize("resume", ["true", "false"])
@pytest.mark.parametrize("trailing_newline", [True, False])
def test_output_equal_to_input_is_refused_and_input_untouched(tmp_path, resume, trailing_newline):
    src = tmp_path / "in.jsonl"
    text = "".join(json.dumps(i) + "\n" for i in items("a", 3))
    src.write_text(text if trailing_newline else text.rstrip("\n"))
    before = src.read_bytes()
    one_sentence(score(f"input={src}", f"output={src}", f"resume={resume}", cwd=tmp_path), "is the input file")
    assert src.read_bytes() == before


def test_output_hard_linked_to_input_is_refused(tmp_path):
    src = write_items(tmp_path / "in.jsonl", items("a", 2))
    link = tmp_path / "link.jsonl"
    os.link(src, link)
    before = src.read_bytes()
    one_sentence(score(f"input={src}", f"output={link}", "resume=false", cwd=tmp_path), "is the input file")
    assert src.read_bytes() == before


# ------------------------------------------------------------------ hostile contents


def test_lone_surrogate_is_scored_and_output_is_valid_utf8(tmp_path):
    src = tmp_path / "in.jsonl"
    # JSON escapes of a lone high surrogate, in the id, the response and the ground truth
    src.write_text(
        "\n".join([
            json.dumps({"id": "ok", **GOOD}),
            '{"id": "s\\ud83d", "data_source": "countdown", "response": "<answer>1 + 2\\ud83d</answer>", "ground_truth": {"numbers": [1, 2], "target": 3}}',
            '{"id": "m", "data_source": "math500", "response": "<answer>\\\\boxed{\\ud83d}</answer>", "ground_truth": "3"}',
        ]) + "\n"
    )
    out = tmp_path / "out.jsonl"
    for attempt in range(2):  # the rerun resumes past them instead of crashing at the same line
        proc = score(f"input={src}", f"output={out}", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "Traceback" not in proc.stderr
    got = rows(out)  # decodes as strict UTF-8
    assert [r["id"] for r in got] == ["ok", "s\ufffd", "m"]
    assert [r["score"] for r in got] == [1.0, 0.0, 0.0]
    assert "surrogate" in got[1]["details"]["note"] and "surrogate" in got[2]["details"]["note"]


def test_bare_carriage_return_inside_a_line_stays_one_item(tmp_path):
    src = tmp_path / "in.jsonl"
    line = json.dumps({"id": "cr", **GOOD}).replace(', "data_source"', ',\r"data_source"')
    assert "\r" in line
    src.write_bytes((json.dumps({"id": "first", **GOOD}) + "\n" + line + "\n").encode())
    out = tmp_path / "out.jsonl"
    proc = score(f"input={src}", f"output={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    got = rows(out)
    assert [(r["id"], r["score"]) for r in got] == [("first", 1.0), ("cr", 1.0)]
    # and a rerun resumes to nothing rather than refusing
    assert score(f"input={src}", f"output={out}", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("reward", ["binary", "proportional", "format"])
def test_unscorable_lines_score_zero_under_every_scheme(tmp_path, reward):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([
        json.dumps({"id": "good", **GOOD}),
        "{broken",
        "",
        "[1, 2]",
        json.dumps({"id": "nosrc", "response": "<answer>3</answer>"}),
        json.dumps({"id": "gsm", "data_source": "gsm8k", "response": "<think>t</think> <answer>3</answer>", "ground_truth": "3"}),
    ]) + "\n")
    out = tmp_path / "out.jsonl"
    proc = score(f"input={src}", f"output={out}", f"reward={reward}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    got = rows(out)
    assert len(got) == 6
    assert got[0]["score"] > 0
    assert [r["score"] for r in got[1:]] == [0.0] * 5
    unknown = got[5]["details"]["reason"]
    assert "unknown data_source 'gsm8k'" in unknown and "countdown" in unknown and "math500" in unknown


# ------------------------------------------------------------------ bad settings and paths


@pytest.mark.parametrize("workers", ["-1", "abc", "1.5", "true"])
def test_bad_workers_is_one_sentence_and_writes_nothing(tmp_path, workers):
    src = write_items(tmp_path / "in.jsonl", items("a", 2))
    out = tmp_path / "out.jsonl"
    proc = subprocess.run([sys.executable, "-m", "mdrl.cli", "score", f"input={src}", f"output={out}", f"workers={workers}"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    one_sentence(proc, "workers must be a whole number >= 0")
    assert not out.exists()


def test_unknown_scheme_is_refused_before_the_output_is_touched(tmp_path):
    a = write_items(tmp_path / "a.jsonl", items("a", 3))
    out = tmp_path / "out.jsonl"
    assert score(f"input={a}", f"output={out}", cwd=tmp_path).returncode == 0
    before = out.read_bytes()
    one_sentence(score(f"input={a}", f"output={out}", "reward.scheme=bogus", "resume=false", cwd=tmp_path), "reward.scheme must be one of binary, format, paper, proportional, not 'bogus'")
    assert out.read_bytes() == before


@pytest.mark.parametrize(
    "make_output, needle",
    [
        (lambda t: (t / "afile").write_text("x") and t / "afile" / "out.jsonl", "is a file, not a directory"),
        (lambda t: (t / "adir").mkdir() or t / "adir", "is a directory"),
        (lambda t: Path("/proc/mdrl-test/out.jsonl"), "cannot write output /proc/mdrl-test/out.jsonl"),
    ],
    ids=["parent-is-file", "output-is-dir", "under-proc"],
)
def test_unwritable_output_is_one_sentence(tmp_path, make_output, needle):
    src = write_items(tmp_path / "in.jsonl", items("a", 2))
    out = make_output(tmp_path)
    one_sentence(score(f"input={src}", f"output={out}", cwd=tmp_path), needle)


# ------------------------------------------------------------------ kill -9 mid-run, then resume


def test_kill_9_mid_run_then_resume_loses_and_duplicates_nothing(tmp_path):
    n = 120
    src = tmp_path / "in.jsonl"
    # sleepytest items take 50 ms each: time enough to kill the run part-way
    write_items(src, [{"id": f"s{i}", "data_source": "sleepytest", "response": f"<answer>{i % 3}</answer>", "ground_truth": "1"} for i in range(n)])
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "MDRL_PLUGINS": "tests.plugins.sleepy_domain", "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    args = [sys.executable, "-m", "mdrl.cli", "score", f"input={src}", f"output={out}", "progress=false", "workers=1"]
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if out.exists() and out.read_bytes().count(b"\n") >= 10:
                break
            time.sleep(0.05)
        assert proc.poll() is None, f"run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
        os.killpg(proc.pid, signal.SIGKILL)  # the job and its scoring workers, like kill -9 on a node
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    partial = out.read_bytes().count(b"\n")
    assert 10 <= partial < n
    meta = json.loads(Path(f"{out}.meta.json").read_text())
    assert meta["summary"]["status"] == "running" and meta["input"]["lines"] == n

    again = score(f"input={src}", f"output={out}", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"resuming {out}: {partial} of {n} lines already scored" in again.stderr
    got = rows(out)
    assert [r["id"] for r in got] == [f"s{i}" for i in range(n)]
    assert [r["score"] for r in got] == [1.0 if i % 3 == 1 else 0.0 for i in range(n)]
    summary = json.loads(Path(f"{out}.meta.json").read_text())["summary"]
    assert summary["status"] == "complete" and summary["resumed_after"] == partial and summary["scored_this_run"] == n - summary["resumed_after"]


def test_unknown_data_source_lists_the_known_ones_on_every_path():
    from mdrl.scoring import score_one

    reason = score_one("gsm8k", "<answer>3</answer>", "3")["details"]["reason"]
    assert reason.startswith("unknown data_source 'gsm8k' (known: ") and "countdown" in reason and "zebra" in reason
