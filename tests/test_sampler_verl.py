"""The curriculum order inside veRL's own data path (create_rl_dataset, create_rl_sampler,
StatefulDataLoader), on CPU: easy-to-hard batches, the adaptive level moved by
``on_batch_end`` and carried through the dataloader's state."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from mdrl.cli import compose
from mdrl.jobs import verl_config
from mdrl.jobs.adaptive_data import expand_levels
from mdrl.jobs.prepare import prepare

# The tiny tokenizer splits text into many tokens: no row may be dropped as overlong.
BIG_PROMPTS = "algorithm.max_prompt_length=16384"
LEVELS = "curriculum.domains.countdown.levels=[2,3,4]"


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from transformers import AutoTokenizer

    from mdrl.jobs.tiny_model import ensure_tiny_model

    cfg = compose("train", ["run_dir=/unused"])
    texts = ["A conversation between User and Assistant. <think> 1 + 2 = 3 </think> <answer> 3 </answer>"] * 4
    path = ensure_tiny_model(OmegaConf.to_container(cfg.model, resolve=True), texts, tmp_path_factory.mktemp("tiny") / "model")
    return AutoTokenizer.from_pretrained(path)


@pytest.fixture(scope="module")
def levelled_data(tmp_path_factory) -> Path:
    """Generated CountDown at three difficulty levels, stored shuffled (curriculum=none)."""
    out = tmp_path_factory.mktemp("data")
    cfg = compose("train", [f"run_dir={out}", "curriculum=adaptive", LEVELS, "curriculum.domains.countdown.rows_per_level=8"])
    cfg = expand_levels(cfg)
    cfg.curriculum.name = "none"
    prepare(cfg, out)
    return out / "train.parquet"


def _loader(vcfg, tokenizer, batch_size: int = 4):
    from torchdata.stateful_dataloader import StatefulDataLoader
    from verl.trainer.ppo.utils import create_rl_dataset, create_rl_sampler
    from verl.utils.dataset.rl_dataset import collate_fn

    tokenizer.chat_template = vcfg.actor_rollout_ref.model.get("custom_chat_template") or tokenizer.chat_template
    ds = create_rl_dataset(list(vcfg.data.train_files), vcfg.data, tokenizer, None, is_train=True)
    sampler = create_rl_sampler(vcfg.data, ds)
    return ds, StatefulDataLoader(ds, batch_size=batch_size, sampler=sampler, collate_fn=collate_fn, num_workers=0, drop_last=True)  # veRL uses 8; the order is the same


def _difficulties(batch) -> list[float]:
    return [float(json.loads(x)["difficulty"]) if isinstance(x, str) else float(x["difficulty"]) for x in batch["extra_info"]]


def _vcfg(data: Path, run_dir: Path, *overrides: str):
    cfg = compose("train", [f"run_dir={run_dir}", BIG_PROMPTS, "algorithm.train_batch_size=4", "algorithm.ppo_mini_batch_size=4", "cluster.gpus_per_node=1", *overrides])
    vcfg = verl_config.build(cfg, [str(data)], str(data), str(run_dir / "model"))
    verl_config.validate(vcfg)
    return vcfg


def test_easy_to_hard_batches_come_in_order_through_verls_dataloader(levelled_data, tokenizer, tmp_path):
    vcfg = _vcfg(levelled_data, tmp_path, "curriculum=easy_to_hard")
    assert vcfg.data.shuffle is False and vcfg.data.custom_cls.name == "CurriculumDataset"
    ds, loader = _loader(vcfg, tokenizer)
    assert type(ds).__name__ == "CurriculumDataset"  # loaded by veRL's get_dataset_class from the config
    seen = [d for batch in loader for d in _difficulties(batch)]
    assert len(seen) == 24 and seen == sorted(seen) and set(seen) == {2.0, 3.0, 4.0}
    # the same data under curriculum=none comes shuffled, through veRL's own RLHFDataset
    vcfg = _vcfg(levelled_data, tmp_path, "curriculum=none")
    ds, loader = _loader(vcfg, tokenizer)
    assert type(ds).__name__ == "RLHFDataset"
    plain = [d for batch in loader for d in _difficulties(batch)]
    assert sorted(plain) == seen and plain != seen
    # the validation set built with the same class keeps its stored order
    from verl.trainer.ppo.utils import create_rl_dataset

    vcfg = _vcfg(levelled_data, tmp_path, "curriculum=easy_to_hard")
    val = create_rl_dataset([str(levelled_data)], vcfg.data, tokenizer, None, is_train=False)
    vcfg.data.custom_cls.curriculum.train_files = ["/elsewhere/train.parquet"]
    val = create_rl_dataset([str(levelled_data)], vcfg.data, tokenizer, None, is_train=False)
    assert not val.is_train and [_difficulties({"extra_info": [val[i]["extra_info"]]})[0] for i in range(24)] == _stored(levelled_data)


def _stored(path: Path) -> list[float]:
    import pandas as pd

    return [float(x["difficulty"]) for x in pd.read_parquet(path)["extra_info"]]


def _batch(extra_infos, acc):
    from verl import DataProto

    return DataProto.from_single_dict({"extra_info": np.array(extra_infos, dtype=object), "acc": np.array(acc, dtype=float)})


def test_adaptive_level_moves_with_pass_rate_in_verls_loop(levelled_data, tokenizer, tmp_path):
    vcfg = _vcfg(levelled_data, tmp_path, "curriculum=adaptive", LEVELS, "curriculum.min_samples=4", "curriculum.band=[0.3,0.7]")
    assert vcfg.trainer.use_v1 is False and vcfg.data.dataloader_num_workers == 0
    ds, loader = _loader(vcfg, tokenizer)
    it = iter(loader)
    first = next(it)
    assert set(_difficulties(first)) == {3.0}  # the start level
    ds.on_batch_end(_batch(list(first["extra_info"]), [1.0] * 4))  # all passed: harder
    second = next(it)
    assert set(_difficulties(second)) == {4.0}
    state = loader.state_dict()
    ds.on_batch_end(_batch(list(second["extra_info"]), [0.0] * 4))
    ds.on_batch_end(_batch(list(second["extra_info"]), [0.0] * 4))  # two bad batches: back to 3, then 2
    assert set(_difficulties(next(it))) == {2.0}
    assert [(h["from"], h["to"]) for h in ds.adaptive.history] == [(3, 4), (4, 3), (3, 2)]
    # a resumed loader (veRL saves StatefulDataLoader's state with each checkpoint) continues at level 4
    ds2, loader2 = _loader(vcfg, tokenizer)
    loader2.load_state_dict(state)
    assert set(_difficulties(next(iter(loader2)))) == {4.0}  # the state is restored as iteration starts
    assert ds2.adaptive.levels() == {"countdown": 4} and ds2.adaptive.history == [{"update": 1, "domain": "countdown", "pass_rate": 1.0, "from": 3, "to": 4}]
