"""The veRL reward hook ships settings to the workers once, not per item (issue 12, point 9).

veRL binds ``reward_kwargs`` copied one level deep, so the settings reach the hook as
OmegaConf nodes of the whole trainer config (about 100 KB when pickled). What each item
sends to a worker process must stay small whatever form the settings arrive in.
"""

from __future__ import annotations

import asyncio
import pickle

import pytest
from omegaconf import DictConfig, OmegaConf
from pebble import ProcessPool

from mdrl.cli import compose
from mdrl.jobs import verl_config
from mdrl.scoring import executor, verl_reward

GOLD = "<think> 1+2 </think> <answer> (1 + 2) * 3 </answer>"


@pytest.fixture()
def verl_fn(tmp_path):
    """The reward function exactly as veRL's get_custom_reward_fn binds it."""
    from verl.trainer.ppo.reward import get_custom_reward_fn

    cfg = compose("train", [f"run_dir={tmp_path}", "model.path=/unused", "reward=format", "cluster.scoring_workers=2"])
    vcfg = verl_config.build(cfg, ["t.parquet"], "v.parquet", "/unused")
    fn = get_custom_reward_fn(vcfg)
    return fn, fn.args[-1]


@pytest.fixture()
def shipped(monkeypatch):
    """Every args tuple the hook schedules on a worker pool."""
    sent: list[tuple] = []
    real = ProcessPool.schedule

    def schedule(self, function, args=(), kwargs=None, timeout=None):
        sent.append(args)
        return real(self, function, args=args, kwargs=kwargs or {}, timeout=timeout)

    monkeypatch.setattr(ProcessPool, "schedule", schedule)
    return sent


def _overhead(args: tuple) -> int:
    """Pickled bytes an item costs beyond its own fields (data_source, response, truth, info)."""
    return len(pickle.dumps(args)) - len(pickle.dumps(args[2:]))


def test_settings_arrive_as_omegaconf_nodes_that_pickle_large(verl_fn):
    """The premise: what veRL hands the hook drags the whole config along."""
    _, kwargs = verl_fn
    assert isinstance(kwargs["format"], DictConfig)
    assert len(pickle.dumps({k: kwargs[k] for k in ("scheme", "format", "domains")})) > 20_000


def test_each_item_ships_under_2kb_of_settings_and_scores_right(verl_fn, shipped):
    fn, kwargs = verl_fn

    async def batch():
        return await asyncio.gather(*[fn(data_source="countdown", solution_str=GOLD if i % 2 == 0 else "no tags", ground_truth={"target": 9, "numbers": [1, 2, 3]}, extra_info={"num_turns": 2}) for i in range(12)])

    out = asyncio.run(batch())
    assert [o["score"] for o in out] == pytest.approx([1.1, -0.1] * 6)
    assert len(shipped) == 12
    sizes = [_overhead(a) for a in shipped]
    assert max(sizes) < 2048, sizes
    # the pool was started holding the settings: items carry the key alone
    assert all(a[1] is None and isinstance(a[0], str) and len(a[0]) <= 32 for a in shipped)
    assert executor._POOL_SIZE == 2  # cluster.scoring_workers reached the hook as `workers`


def test_settings_are_converted_once_per_set_of_nodes(verl_fn, monkeypatch):
    _, kwargs = verl_fn
    calls = []
    real = verl_reward.plain_settings
    monkeypatch.setattr(verl_reward, "plain_settings", lambda s: calls.append(1) or real(s))
    verl_reward._MEMO.clear()
    first = verl_reward._settings(dict(kwargs))
    for _ in range(50):
        assert verl_reward._settings(dict(kwargs)) is first
    assert len(calls) == 1
    assert first["format"] == OmegaConf.to_container(kwargs["format"]) and isinstance(first["format"], dict)
    # other values are other settings
    other = verl_reward._settings({**kwargs, "scheme": "binary"})
    assert other["scheme"] == "binary" and len(calls) == 2


def test_pool_gets_a_share_of_the_cores_per_scoring_actor(monkeypatch):
    monkeypatch.setattr(verl_reward, "default_workers", lambda: 64)
    assert verl_reward.pool_size({"actors_per_node": 8}) == 8
    assert verl_reward.pool_size({"actors_per_node": 3}) == 21
    assert verl_reward.pool_size({"actors_per_node": 128}) == 1
    assert verl_reward.pool_size({"workers": 5, "actors_per_node": 8}) == 5
    assert verl_reward.pool_size({}) == 64


def test_reward_kwargs_carry_pool_sizing(tmp_path):
    cfg = compose("train", [f"run_dir={tmp_path}", "model.path=/unused", "cluster=slurm", "cluster.nnodes=3", "cluster.scoring_actors=8"])
    vcfg = verl_config.build(cfg, ["t.parquet"], "v.parquet", "/unused")
    kw = vcfg.reward.custom_reward_function.reward_kwargs
    assert vcfg.reward.num_workers == 8
    assert kw.actors_per_node == 3  # veRL places its 8 scoring actors round-robin over 3 nodes
    assert kw.workers is None


def test_new_settings_restart_an_idle_pool_holding_them(shipped):
    """Plain dicts work too; a second set of settings restarts the idle pool with both."""
    s1 = {"scheme": "binary", "format": {"bonus": 0.1, "penalty": -0.1}, "domains": {}}
    s2 = {"scheme": "format", "format": {"bonus": 0.5, "penalty": -0.5, "answer_scheme": "binary"}, "domains": {}}
    items = [{"data_source": "countdown", "response": GOLD, "ground_truth": {"target": 9, "numbers": [1, 2, 3]}}]
    assert executor.score_batch(items, s1, workers=1)[0]["score"] == 1.0
    assert executor.score_batch(items, s2, workers=1)[0]["score"] == 1.5
    k1, k2 = executor.register_settings(s1)[0], executor.register_settings(s2)[0]
    assert [a[0] for a in shipped] == [k1, k2]
    assert all(_overhead(a) < 2048 for a in shipped)


def test_settings_the_workers_lack_travel_inline_as_plain_data(shipped):
    """While items are in flight the pool is not restarted: the new settings go with the item,
    as plain containers, and the worker keeps them for later items."""
    s1 = {"scheme": "binary", "format": {"bonus": 0.1, "penalty": -0.1}, "domains": {}}
    s2 = OmegaConf.create({"scheme": "format", "format": {"bonus": 0.7, "penalty": -0.7, "answer_scheme": "binary"}, "domains": {}})
    pool = executor.get_pool(1, s1)
    assert executor.register_settings(s2)[0] not in executor._POOL_KEYS
    fut, limit = executor.submit(pool, "countdown", GOLD, {"target": 9, "numbers": [1, 2, 3]}, None, s2)
    assert executor.collect(fut, limit, s2)["score"] == pytest.approx(1.7)
    (args,) = shipped
    assert isinstance(args[1], dict) and not isinstance(args[1], DictConfig) and _overhead(args) < 2048
