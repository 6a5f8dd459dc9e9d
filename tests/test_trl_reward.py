"""The TRL reward function (the local backend's reward) and the per-domain metrics it logs."""

from __future__ import annotations

import json
import os

import pytest

from mdrl.scoring import score_batch, shutdown
from mdrl.scoring.metrics import domain_metrics
from mdrl.scoring.trl_reward import TRLReward

SETTINGS = {"scheme": "binary"}
CD_GT = {"numbers": [1, 2, 3], "target": 6}


@pytest.fixture
def pid_plugin(monkeypatch):
    shutdown()
    monkeypatch.setenv("MDRL_PLUGINS", "tests.plugins.pid_domain")
    import tests.plugins.pid_domain  # noqa: F401  (registered here too, as TRL's process would)

    yield
    shutdown()


def _result(score, correct=False, well_formed=True, reason="mismatch"):
    return {"score": score, "details": {"correct": correct, "well_formed": well_formed, "reason": reason, "fraction": float(correct)}}


def test_domain_metrics_per_source_and_overall():
    results = [_result(1.0, True), _result(0.0), _result(-0.1, well_formed=False, reason="timeout: item exceeded its 10s limit"), _result(1.0, True)]
    m = domain_metrics(["kk", "kk", "math", "math"], results)
    assert m["reward/kk/score"] == 0.5 and m["reward/kk/accuracy"] == 0.5 and m["reward/kk/format_rate"] == 1.0 and m["reward/kk/timeouts"] == 0
    assert m["reward/math/score"] == pytest.approx(0.45) and m["reward/math/accuracy"] == 0.5
    assert m["reward/math/format_rate"] == 0.5 and m["reward/math/timeouts"] == 1
    assert m["reward/all/score"] == pytest.approx(0.475) and m["reward/all/accuracy"] == 0.5 and m["reward/all/timeouts"] == 1
    assert set(domain_metrics(["kk"], [_result(1.0, True)], prefix="val")) == {f"val/{s}/{k}" for s in ("kk", "all") for k in ("score", "accuracy", "format_rate", "timeouts")}
    assert domain_metrics([], []) == {}


def test_trl_reward_scores_as_the_shared_executor_does_and_keeps_the_batch_metrics():
    reward = TRLReward(SETTINGS, workers=2)
    assert reward.__name__ == "mdrl_binary"  # TRL logs the reward under this name
    completions = [" 1 + 2 + 3 </think> <answer>1 + 2 + 3</answer>", " </think> <answer>1 * 2</answer>", "no tags at all"]
    # TRL hands every dataset column as a list; extra_info arrives as JSON text (see to_dataset)
    cols = {"data_source": ["countdown"] * 3, "reward_model": [{"ground_truth": json.dumps(CD_GT)}] * 3,
            "extra_info": [json.dumps({"index": i}) for i in range(3)]}
    scores = reward(["p"] * 3, completions, **cols)
    direct = score_batch([{"data_source": "countdown", "response": c, "ground_truth": json.dumps(CD_GT)} for c in completions], SETTINGS, 2)
    assert scores == [r["score"] for r in direct] == [1.0, 0.0, 0.0]
    assert reward.last_metrics == domain_metrics(["countdown"] * 3, direct)
    assert reward.last_metrics["reward/countdown/accuracy"] == pytest.approx(1 / 3)


def test_trl_reward_reads_conversational_completions_and_a_ground_truth_column():
    reward = TRLReward({"scheme": "format"})
    convo = [[{"role": "assistant", "content": " </think> <answer>(1 + 2) * 2</answer>"}], [{"role": "assistant", "content": "<answer>7</answer>"}]]
    scores = reward(["p", "p"], convo, data_source=["countdown", "countdown"], ground_truth=[json.dumps({"numbers": [1, 2, 2], "target": 6})] * 2,
                    extra_info=["not json", None])
    assert scores[0] > scores[1] and reward.__name__ == "mdrl_format"


def test_trl_reward_scores_plugin_domains_in_the_pool_workers(pid_plugin):
    reward = TRLReward(SETTINGS, workers=1)
    scores = reward(["p", "p"], ["<answer>4</answer>", "<answer>5</answer>"], data_source=["pidtest", "pidtest"], reward_model=[{"ground_truth": "4"}] * 2)
    assert scores == [1.0, 0.0]
    assert reward.last_metrics["reward/pidtest/accuracy"] == 0.5 and reward.last_metrics["reward/all/score"] == 0.5
    pids = {r["details"]["pid"] for r in score_batch([{"data_source": "pidtest", "response": "<answer>4</answer>", "ground_truth": "4"}], SETTINGS, 1)}
    assert os.getpid() not in pids
