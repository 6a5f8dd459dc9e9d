"""mdrl experiments proven through the installed veRL's own CPU code paths.

For every mixture and every algorithm file: the composed config is merged into veRL's
defaults and passes ``validate_config``; the parquet ``mdrl prepare`` wrote goes through
``create_rl_dataset`` with prompts, data_source and ground truth intact; and the reward
manager the config selects (``load_reward_manager``) scores a rollout-like batch of token
ids that decode to known responses, with per-domain metrics from veRL's own
``process_validation_metrics`` and a hanging item cut at its limit.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf

from mdrl.cli import compose, main
from mdrl.errors import UserError
from mdrl.jobs import verl_config
from mdrl.jobs.prepare import prepare
from mdrl.jobs.warmup import gold_response

REPO = Path(__file__).resolve().parents[1]
MIXTURES = sorted(p.stem for p in (REPO / "conf" / "mixture").glob("*.yaml") if not p.stem.startswith("_"))
ALGORITHMS = sorted(p.stem for p in (REPO / "conf" / "algorithm").glob("*.yaml") if not p.stem.startswith("_"))
# The tiny test tokenizer splits text into many tokens: lift the prompt cap so that no row
# is dropped by veRL's overlong filter and survival can be checked row for row.
BIG_PROMPTS = "algorithm.max_prompt_length=16384"
WRONG = " </think> <answer> certainly not the answer </answer>"
HANG = " </think> <answer>\n```python\nwhile True:\n    pass\n```\n</answer>"


@pytest.fixture(autouse=True, scope="module")
def _stop_helper_threads():
    """Stop the threads this module's veRL calls leave behind (the reward manager's decode
    executor, tqdm's monitor): later modules run sandboxed programs from this process, and
    the sandbox reaps escaped zombies only while the scorer is single-threaded."""
    yield
    from tqdm import tqdm
    from verl.utils.ray_utils import get_event_loop

    loop = get_event_loop()
    loop.run_until_complete(loop.shutdown_default_executor())
    if tqdm.monitor is not None:
        tqdm.monitor.exit()
        tqdm.monitor = None


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    from mdrl.jobs.tiny_model import ensure_tiny_model

    cfg = compose("train", ["run_dir=/unused"])
    texts = ["A conversation between User and Assistant. <think> 12 + 34 = 46 </think> <answer> (1) Ann is a knight </answer>"] * 4
    return ensure_tiny_model(OmegaConf.to_container(cfg.model, resolve=True), texts, tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model)


def _cfg(run_dir: Path, data_root: Path | None, model: str, *overrides: str):
    base = [f"run_dir={run_dir}", f"model.path={model}", "mixture.rows_per_study_domain=3", "mixture.val_rows=2", BIG_PROMPTS]
    if data_root is not None:
        base.append(f"catalog.data_root={data_root}")
    return compose("train", base + list(overrides))


def rollout_batch(tokenizer, items: list[dict], responses: list[str]):
    """A DataProto shaped like veRL's rollout output: left-padded prompts, right-padded responses."""
    from verl import DataProto

    pad = tokenizer.pad_token_id
    enc_p = [tokenizer.apply_chat_template(it["raw_prompt"], tokenize=True, add_generation_prompt=True) for it in items]
    enc_p = [e["input_ids"] if isinstance(e, dict) or hasattr(e, "keys") else e for e in enc_p]
    enc_r = [tokenizer(r, add_special_tokens=False)["input_ids"] for r in responses]
    P, R = max(map(len, enc_p)), max(map(len, enc_r))
    prompts = torch.full((len(items), P), pad)
    resp = torch.full((len(items), R), pad)
    mask = torch.zeros((len(items), P + R), dtype=torch.long)
    for i, (p, r) in enumerate(zip(enc_p, enc_r)):
        prompts[i, P - len(p):] = torch.tensor(p)
        resp[i, : len(r)] = torch.tensor(r)
        mask[i, P - len(p): P + len(r)] = 1
    return DataProto.from_dict(
        tensors={"prompts": prompts, "responses": resp, "input_ids": torch.cat([prompts, resp], 1), "attention_mask": mask},
        non_tensors={
            "data_source": np.array([it["data_source"] for it in items], dtype=object),
            "reward_model": np.array([it["reward_model"] for it in items], dtype=object),
            "extra_info": np.array([dict(it["extra_info"]) for it in items], dtype=object),
        },
    )


def run_reward_manager(vcfg, tokenizer, batch) -> list[dict]:
    """Score every item through the reward manager veRL's config selects, concurrently."""
    from verl.trainer.ppo.reward import load_reward_manager

    mgr = load_reward_manager(vcfg, tokenizer)

    async def all_items():
        return await asyncio.gather(*[mgr.run_single(batch[i: i + 1]) for i in range(len(batch))])

    return mgr.loop.run_until_complete(all_items())


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("mixture", MIXTURES)
def test_every_mixture_and_algorithm_passes_verls_validation(mixture, algorithm, tiny_model, tmp_path):
    cfg = _cfg(tmp_path, None, tiny_model, f"mixture={mixture}", f"algorithm={algorithm}")
    vcfg = verl_config.build(cfg, [str(tmp_path / "train.parquet")], str(tmp_path / "val.parquet"), tiny_model)
    verl_config.validate(vcfg)
    # GAE learns a value model; the group estimators (GRPO, RLOO, REINFORCE++) must not train one
    assert vcfg.critic.enable == (vcfg.algorithm.adv_estimator == "gae")
    # the reward function veRL loads from this config is mdrl's scorer under the experiment's
    # reward settings: it pays what mdrl's own scoring pays for the same responses
    from verl.trainer.ppo.reward import get_custom_reward_fn

    from mdrl.scoring import score_one

    reward_fn = get_custom_reward_fn(vcfg)
    settings = OmegaConf.to_container(cfg.reward, resolve=True)
    gt = json.dumps({"numbers": [1, 2, 3], "target": 6})
    for response in (" 1+2+3 </think> <answer>1 + 2 + 3</answer>", "no tags", " </think> <answer>1 * 2</answer>"):
        got = asyncio.run(reward_fn(data_source="countdown", solution_str=response, ground_truth=gt, extra_info={}))
        assert got["score"] == pytest.approx(score_one("countdown", response, gt, {}, settings)["score"])


@pytest.mark.parametrize("mixture", MIXTURES)
def test_prepared_data_survives_verls_loader_and_scores_right(mixture, tiny_model, tokenizer, shared_data, tmp_path):
    from verl.trainer.ppo.metric_utils import process_validation_metrics
    from verl.trainer.ppo.utils import create_rl_dataset

    cfg = _cfg(tmp_path, shared_data, tiny_model, f"mixture={mixture}", "reward=binary")
    manifest = prepare(cfg, tmp_path / "data")
    vcfg = verl_config.build(cfg, manifest["train_files"], manifest["val_file"], tiny_model)
    verl_config.validate(vcfg)

    # the agent loop renders prompts with the tokenizer's chat template, replaced by ours
    tokenizer.chat_template = vcfg.actor_rollout_ref.model.custom_chat_template
    for files, is_train in ((list(vcfg.data.train_files), True), (list(vcfg.data.val_files), False)):
        written = pd.concat([pd.read_parquet(f) for f in files]).reset_index(drop=True)
        ds = create_rl_dataset(files, vcfg.data, tokenizer, None, is_train=is_train)
        assert len(ds) == len(written) > 0
        items = [ds[i] for i in range(len(ds))]
        for item, (_, row) in zip(items, written.iterrows()):
            assert item["data_source"] == row["data_source"]
            assert item["reward_model"]["ground_truth"] == row["reward_model"]["ground_truth"]
            rendered = tokenizer.apply_chat_template(item["raw_prompt"], tokenize=False, add_generation_prompt=True)
            assert rendered == row["extra_info"]["raw_prompt"]
            assert item["extra_info"]["question"] in rendered

        # gold responses where the data has them score 1, a wrong answer 0
        items = items[:16]
        golds = [gold_response(it["extra_info"]["domain"], it) for it in items]
        cases = [(it, g, 1.0) for it, g in zip(items, golds) if g] + [(it, WRONG, 0.0) for it in items]
        batch = rollout_batch(tokenizer, [c[0] for c in cases], [c[1] for c in cases])
        out = run_reward_manager(vcfg, tokenizer, batch)
        got = [o["reward_score"] for o in out]
        want = [c[2] for c in cases]
        assert got == want, [(c[0]["data_source"], c[1][:80], g) for c, g in zip(cases, got) if g != c[2]]
        assert sum(1 for g in golds if g) >= len(items) // 2, "too few rows with a known gold answer"

        # per-domain metrics as veRL computes them for validation
        infos = {k: [o["reward_extra_info"][k] for o in out] for k in out[0]["reward_extra_info"]}
        sources = [c[0]["data_source"] for c in cases]
        metrics = process_validation_metrics(sources, [str(i) for i in range(len(cases))], infos)
        for source in set(sources):
            acc = [w for s, w in zip(sources, want) if s == source]
            assert metrics[source]["acc"]["mean@1"] == pytest.approx(sum(acc) / len(acc))
            assert metrics[source]["format"]["mean@1"] == pytest.approx(1.0)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_reward_manager_of_each_algorithm_scores_and_cuts_a_hanging_item(algorithm, tiny_model, tokenizer, tmp_path):
    """Generated CountDown (no files needed) plus one code item that never halts."""
    from verl.trainer.ppo.utils import create_rl_dataset

    cfg = _cfg(tmp_path, None, tiny_model, f"algorithm={algorithm}", "mixture=countdown3_tiny", "reward=format", "reward.item_timeout_s=2")
    manifest = prepare(cfg, tmp_path / "data")
    vcfg = verl_config.build(cfg, manifest["train_files"], manifest["val_file"], tiny_model)
    verl_config.validate(vcfg)
    tokenizer.chat_template = vcfg.actor_rollout_ref.model.custom_chat_template
    ds = create_rl_dataset(list(vcfg.data.train_files), vcfg.data, tokenizer, None, is_train=True)
    items = [ds[i] for i in range(6)]
    hanging = {**items[0], "data_source": "leetcode", "reward_model": {"ground_truth": '{"functional": "assert True"}'}}
    cases = [(it, gold_response("countdown", it), 1.1) for it in items] + [(it, "no tags at all", -0.1) for it in items[:2]]
    cases.append((hanging, HANG, -0.1))
    batch = rollout_batch(tokenizer, [c[0] for c in cases], [c[1] for c in cases])
    out = run_reward_manager(vcfg, tokenizer, batch)
    assert [o["reward_score"] for o in out] == pytest.approx([c[2] for c in cases])
    assert out[-1]["reward_extra_info"]["timeout"] == 1.0
    assert all(o["reward_extra_info"]["timeout"] == 0.0 for o in out[:-1])
    # how long the batch takes with a hanging item in it: benchmarks/adversarial_latency.py


def test_dapo_selects_veRLs_dapo_manager_with_overlong_penalty(tiny_model, tmp_path):
    from verl.trainer.ppo.reward import resolve_reward_manager_cls

    cfg = _cfg(tmp_path, None, tiny_model, "algorithm=dapo")
    vcfg = verl_config.build(cfg, ["t.parquet"], "v.parquet", tiny_model)
    assert resolve_reward_manager_cls(vcfg).__name__ == "DAPORewardManager"
    assert vcfg.reward.reward_kwargs.overlong_buffer_cfg.enable
    assert vcfg.algorithm.filter_groups.enable
    assert vcfg.actor_rollout_ref.actor.clip_ratio_high > vcfg.actor_rollout_ref.actor.clip_ratio_low


@pytest.mark.parametrize(
    "override, phrase",
    [
        # mdrl's schema refuses these at composition (tests/test_config_schemas.py); set
        # through algorithm.verl they reach veRL's own checks
        ("+algorithm.verl={algorithm.adv_estimator: bogus}", "veRL does not know advantage estimator 'bogus'"),
        ("+algorithm.verl={actor_rollout_ref.actor.no_such_knob: 1}", "the installed veRL has no setting 'actor_rollout_ref.actor.no_such_knob'"),
        ("algorithm.ppo_mini_batch_size=100", "not a multiple of ppo_mini_batch_size 100"),
        ("+algorithm.verl={actor_rollout_ref.actor.loss_agg_mode: bogus}", "veRL rejected the config: Invalid loss_agg_mode: bogus"),
    ],
)
def test_values_veRL_rejects_are_one_sentence_errors(override, phrase, tiny_model, tmp_path):
    cfg = _cfg(tmp_path, None, tiny_model, override)
    with pytest.raises(UserError) as err:
        vcfg = verl_config.build(cfg, ["t.parquet"], "v.parquet", tiny_model)
        verl_config.validate(vcfg)
    assert phrase in str(err.value)
    assert "\n" not in str(err.value)


def test_cli_dry_run_prints_validated_yaml_and_errors_in_one_sentence(capsys, tmp_path):
    rc = main(["train", "mixture=math_puzzle", "model=qwen2.5-7b-instruct", "template=qwen_chat", "reward=proportional", "dry_run=true", f"hydra.run.dir={tmp_path}"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    vcfg = OmegaConf.create(out.out)
    assert vcfg.actor_rollout_ref.model.path == "Qwen/Qwen2.5-7B-Instruct"
    assert vcfg.reward.custom_reward_function.reward_kwargs.scheme == "proportional"
    assert vcfg.actor_rollout_ref.model.custom_chat_template is None  # the model's own chat template

    rc = main(["train", "algorithm.no_such_key=1", "dry_run=true"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "unknown config key 'algorithm.no_such_key'" in err and "\n" not in err


def test_multirun_makes_one_job_dir_per_combination(capsys, tmp_path):
    rc = main(["train", "-m", "mixture=math,code,puzzle", "model=qwen2.5-7b-base,qwen2.5-7b-instruct", "dry_run=true", f"hydra.sweep.dir={tmp_path}"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    jobs = sorted(p for p in tmp_path.iterdir() if p.is_dir())
    assert len(jobs) == 6
    seen = set()
    for job in jobs:
        overrides = OmegaConf.load(job / ".hydra" / "overrides.yaml")
        seen.add(tuple(sorted(o for o in overrides if o.startswith(("mixture=", "model=")))))
    assert len(seen) == 6
    assert out.out.count("adv_estimator: grpo") == 6


def test_auto_backend_says_trl_without_gpu_and_vllm():
    from mdrl.jobs.train import choose_backend

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    backend, why = choose_backend("auto")
    assert backend == "trl" and "a GPU" in why and "TRL" in why
    with pytest.raises(UserError, match="backend=verl needs a CUDA GPU and vLLM"):
        choose_backend("verl")  # asked for explicitly, it refuses rather than fail a minute in
    with pytest.raises(UserError):
        choose_backend("jax")
