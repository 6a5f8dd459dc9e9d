"""Out-of-tree domains: ``MDRL_PLUGINS`` / ``load_plugins`` register them, and the scoring
pool's worker processes (which never import the test module) score them too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mdrl.domains import domain_for_source, load_plugins
from mdrl.errors import UserError
from mdrl.scoring import score_batch, shutdown

REPO = Path(__file__).resolve().parents[1]
PLUGIN = "tests.plugins.pid_domain"


@pytest.fixture
def plugin_env(monkeypatch):
    """MDRL_PLUGINS set for this test only, and a pool started after it (a running pool
    keeps the plugins it started with)."""
    shutdown()
    monkeypatch.setenv("MDRL_PLUGINS", PLUGIN)
    yield
    shutdown()


def test_load_plugins_registers_the_named_modules_once():
    load_plugins(f" {PLUGIN} ,, ")  # blanks and empty entries are ignored
    load_plugins(PLUGIN)  # a second load is a no-op, not "registered twice"
    dom = domain_for_source("PIDTEST_ALIAS")
    assert dom is not None and dom.name == "pidtest"


def test_the_pool_workers_score_a_plugin_domain(plugin_env):
    items = [{"data_source": "pidtest", "response": f"<think>x</think> <answer>{a}</answer>", "ground_truth": "7"} for a in ("7", "8", "7")]
    out = score_batch(items, {"scheme": "binary"}, workers=2)
    assert [r["score"] for r in out] == [1.0, 0.0, 1.0]
    assert all(r["details"]["domain"] == "pidtest" for r in out)
    # verified in pool workers, not in this process
    assert all(r["details"]["pid"] != os.getpid() for r in out)


def test_a_fresh_process_sees_the_plugin_only_through_the_variable(tmp_path):
    code = (
        "from mdrl.scoring import score_batch, shutdown\n"
        "from mdrl.domains import domain_for_source\n"
        "print(domain_for_source('pidtest') is not None)\n"
        "print(score_batch([{'data_source': 'pidtest', 'response': '<answer>3</answer>', 'ground_truth': '3'}], {'scheme': 'binary'}, workers=1)[0]['score'])\n"
        "shutdown()\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env.pop("MDRL_PLUGINS", None)
    without = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert without.returncode == 0, without.stderr[-2000:]
    assert without.stdout.split() == ["False", "0.0"]  # unknown data_source: scored 0, not a crash
    with_plugin = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={**env, "MDRL_PLUGINS": PLUGIN}, capture_output=True, text=True, timeout=300)
    assert with_plugin.returncode == 0, with_plugin.stderr[-2000:]
    assert with_plugin.stdout.split() == ["True", "1.0"]


def test_a_plugin_that_is_not_there_is_one_sentence(tmp_path):
    with pytest.raises(UserError, match="MDRL_PLUGINS names 'no_such_plugin_mod'"):
        load_plugins("no_such_plugin_mod")
    env = {**os.environ, "MDRL_PLUGINS": "no_such_plugin_mod"}
    proc = subprocess.run([sys.executable, "-m", "mdrl.cli", "prepare", "mixture=countdown3_tiny", f"hydra.run.dir={tmp_path}"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    err = proc.stderr.strip()
    assert proc.returncode == 2 and "Traceback" not in err and len(err.splitlines()) == 1, err[-2000:]
    assert "no_such_plugin_mod" in err
