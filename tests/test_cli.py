"""The console command itself: per-command help and working bash completion."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mdrl.cli import COMMANDS

BIN = Path(sys.executable).parent
# the reward schemes shipped in conf/reward (internal files start with "_")
REWARD_OPTIONS = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "conf" / "reward").glob("*.yaml") if not p.stem.startswith("_"))


def mdrl(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mdrl.cli", *args], capture_output=True, text=True, timeout=120, env=env)


def test_score_help_shows_only_the_reward_group():
    proc = mdrl("score", "--help")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    schemes = ", ".join(REWARD_OPTIONS)
    assert "usage: mdrl score" in out and f"reward      {schemes}  (default: binary)" in out
    for other in ("model", "mixture", "cluster", "algorithm", "curriculum", "template"):
        assert f"\n  {other} " not in out, other
    assert "input=???" in out and "workers=null" in out


def test_train_help_lists_its_groups_options_and_trl_settings():
    proc = mdrl("train", "-h")
    assert proc.returncode == 0, proc.stderr
    for group in ("model", "mixture", "template", "reward", "algorithm", "cluster", "curriculum", "catalog"):
        assert f"\n  {group} " in proc.stdout, group
    assert "qwen2.5-7b-instruct" in proc.stdout and "trl.*: sft_steps" in proc.stdout
    assert "_common" not in proc.stdout  # shared pieces are not options


def test_top_level_usage_names_every_command():
    out = mdrl("--help").stdout
    assert all(f"  {c} " in out for c in COMMANDS)


def test_completion_query_completes_commands_groups_and_options():
    env = {**os.environ, "COMP_LINE": "mdrl sc"}
    assert mdrl("-sc", "query=bash", env=env).stdout.split() == [c for c in COMMANDS]
    env["COMP_LINE"] = "mdrl score reward="
    assert mdrl("-sc", "query=bash", env=env).stdout.split() == [f"reward={r}" for r in REWARD_OPTIONS]


@pytest.mark.skipif(shutil.which("bash") is None or not (BIN / "mdrl").exists(), reason="needs bash and the installed mdrl script")
def test_installed_bash_completion_completes_in_a_real_shell():
    script = mdrl("train", "-sc", "install=bash")
    assert script.returncode == 0 and "complete " in script.stdout
    probe = (
        'eval "$(mdrl train -sc install=bash)"; COMP_LINE="mdrl train mixture=math_"; COMP_POINT=${#COMP_LINE}; '
        'COMP_WORDS=(mdrl train mixture=math_); COMP_CWORD=2; _mdrl_complete; echo "${COMPREPLY[@]}"'
    )
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=120, env=env)
    assert proc.stdout.split() == ["mixture=math_code", "mixture=math_code_puzzle", "mixture=math_puzzle"], proc.stderr


def test_unsupported_shell_is_one_sentence():
    proc = mdrl("score", "-sc", "install=fish")
    assert proc.returncode == 2 and "supports bash" in proc.stderr and "Traceback" not in proc.stderr
