"""`mdrl score` end to end: the console command, its output, resume and one-sentence errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "mdrl" / "samples" / "responses.jsonl"


def mdrl(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mdrl.cli", "score", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]


def test_score_sample_matches_expected_labels(tmp_path):
    out = tmp_path / "scores.jsonl"
    proc = mdrl(f"input={SAMPLE}", f"output={out}", "reward=binary", "workers=2", "progress=false", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    items, scores = read_jsonl(SAMPLE), read_jsonl(out)
    assert [s["id"] for s in scores] == [i["id"] for i in items]
    # gold responses score 1, perturbed ones 0 (the sample is built by benchmarks/build_batch.py)
    assert [s["score"] for s in scores] == [i["extra_info"]["expected"] for i in items]
    meta = json.loads(Path(str(out) + ".meta.json").read_text())
    assert meta["config"]["reward"]["scheme"] == "binary" and meta["summary"]["scored_this_run"] == len(items)


def test_malformed_lines_and_unknown_sources_do_not_abort(tmp_path):
    src = tmp_path / "in.jsonl"
    good = {"id": "a", "data_source": "countdown", "response": "<answer>1 + 2</answer>", "ground_truth": {"numbers": [1, 2], "target": 3}}
    src.write_text("\n".join([json.dumps(good), "{broken", json.dumps({"id": "b", "data_source": "nope", "response": "x", "ground_truth": 1}),
                              json.dumps({"id": "c", "response": "x"}), "[1, 2]"]) + "\n")
    out = tmp_path / "out.jsonl"
    proc = mdrl(f"input={src}", f"output={out}", "progress=false", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = read_jsonl(out)
    assert [r["score"] for r in rows] == [1.0, 0.0, 0.0, 0.0, 0.0]
    reasons = [r["details"]["reason"] for r in rows[1:]]
    assert "malformed JSON" in reasons[0] and "unknown data_source" in reasons[1] and "lacks" in reasons[2] and "not a JSON object" in reasons[3]


def test_resume_continues_after_last_complete_line(tmp_path):
    out = tmp_path / "out.jsonl"
    full = mdrl(f"input={SAMPLE}", f"output={out}", "progress=false", cwd=tmp_path)
    assert full.returncode == 0
    lines = out.read_text().splitlines(keepends=True)
    # simulate a crash: 10 complete lines and half of the 11th
    out.write_text("".join(lines[:10]) + lines[10][:20])
    again = mdrl(f"input={SAMPLE}", f"output={out}", "progress=false", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    strip = lambda rows: [(r["id"], r["score"], r["details"].get("reason")) for r in rows]  # noqa: E731
    assert strip(read_jsonl(out)) == strip([json.loads(l) for l in lines])
    assert json.loads(Path(str(out) + ".meta.json").read_text())["summary"]["resumed_after"] == 10


@pytest.mark.parametrize(
    "args, needle",
    [
        (["input=missing.jsonl", "output=o.jsonl"], "input file not found: missing.jsonl"),
        (["input=x", "output=o.jsonl", "bogus_key=1"], "unknown config key 'bogus_key'"),
        (["input=x", "output=o.jsonl", "reward=nope"], "no option 'nope' in config group 'reward' (choose from binary, format, paper, proportional)"),
        (["output=o.jsonl"], "missing required setting input"),
    ],
)
def test_bad_input_is_one_sentence(tmp_path, args, needle):
    proc = mdrl(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_unknown_command(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mdrl.cli", "frobnicate"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2 and "unknown command 'frobnicate'" in proc.stderr
