"""Mixtures as the study built them: rows balanced per study domain (math = DSR + CountDown,
code = CodeR1, puzzle = KK + LPB), prompts too long for veRL dropped before balancing,
validation on the full benchmark test sets, and the CodeR1 half recorded."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from mdrl.cli import compose
from mdrl.errors import UserError
from mdrl.jobs import verl_config
from mdrl.jobs.prepare import plan_sizes, prepare

REPO = Path(__file__).resolve().parents[1]
MIXTURES = sorted(p.stem for p in (REPO / "conf" / "mixture").glob("*.yaml") if not p.stem.startswith("_"))
# rows each catalog source loads from the shared files
AVAILABLE = {"dsr": 10000, "countdown": 10000, "countdown3": 1024, "coder1": 1890, "kk": 4500, "lpb": 2482}
PAPER_BENCHMARKS = {"math500": 500, "aime24": 30, "countdown": 1024, "humaneval": 164, "mbpp": 257, "kk": 600, "zebralogic": 1000}


def _cfg(tmp_path, shared_data, *overrides):
    return compose("train", [f"run_dir={tmp_path}", f"catalog.data_root={shared_data}", *overrides])


def _groups_of_written(cfg, manifest) -> Counter:
    """Rows per study domain in the written train parquet, from each row's source."""
    catalog = OmegaConf.to_container(cfg.catalog, resolve=True)
    by_domain = {}
    for name in cfg.mixture.sources:
        by_domain.setdefault(catalog["sources"][name]["domain"], set()).add(catalog["sources"][name]["group"])
    assert all(len(g) == 1 for g in by_domain.values())  # a verifier domain sits in one study domain
    df = pd.concat(pd.read_parquet(f) for f in manifest["train_files"])
    return Counter(next(iter(by_domain[d])) for d in (info["domain"] for info in df["extra_info"]))


@pytest.mark.parametrize("mixture", MIXTURES)
def test_every_mixture_writes_equal_rows_per_study_domain(mixture, shared_data, tmp_path):
    cfg = _cfg(tmp_path, shared_data, f"mixture={mixture}", "mixture.val=[]")
    manifest = prepare(cfg, tmp_path / "data")
    counts = _groups_of_written(cfg, manifest)
    assert counts == Counter(manifest["rows_per_study_domain"])
    # rows each source loads from the shared files (model=tiny: nothing dropped by length)
    assert {s: r["available"] for s, r in manifest["rows"].items()} == {s: AVAILABLE[s] for s in cfg.mixture.sources}
    by_group = Counter()
    for s in cfg.mixture.sources:
        by_group[cfg.catalog.sources[s].group] += AVAILABLE[s]
    # every study domain gets the smallest one's total, exactly (the paper's normalisation)
    assert counts == Counter({g: min(by_group.values()) for g in by_group}), counts
    if len(counts) > 1:
        assert manifest["balance"] == "group"
        # the default size is the smallest study domain's total, all of which is used
        smallest = min(counts, key=lambda g: sum(r["available"] for r in manifest["rows"].values() if r["group"] == g))
        assert counts[smallest] == sum(r["available"] for r in manifest["rows"].values() if r["group"] == smallest)


def test_three_domains_are_one_third_each_not_two_one_two(shared_data, tmp_path):
    cfg = _cfg(tmp_path, shared_data, "mixture=math_code_puzzle", "mixture.val=[]")
    m = prepare(cfg, tmp_path / "data")
    # CodeR1's LeetCode half (1,890 rows) is the smallest domain: math and puzzle match it,
    # each split evenly between its two sources
    assert m["rows_per_study_domain"] == {"code": 1890, "math": 1890, "puzzle": 1890}
    assert {s: r["written"] for s, r in m["rows"].items()} == {"dsr": 945, "countdown": 945, "coder1": 1890, "kk": 945, "lpb": 945}


def test_per_source_balance_is_an_option_and_recorded(shared_data, tmp_path):
    cfg = _cfg(tmp_path, shared_data, "mixture=math_code_puzzle", "mixture.balance=source", "mixture.val=[]")
    m = prepare(cfg, tmp_path / "data")
    assert m["balance"] == "source"
    assert {r["written"] for r in m["rows"].values()} == {1890}
    assert m["rows_per_study_domain"] == {"code": 1890, "math": 3780, "puzzle": 3780}  # mdrl's old 2 : 1 : 2
    with pytest.raises(UserError, match="mixture.balance must be one of group, source"):
        prepare(_cfg(tmp_path, shared_data, "mixture=math_code", "mixture.balance=verifier", "mixture.val=[]"), tmp_path / "bad")


def test_plan_sizes_splits_a_group_by_weight_without_duplicating_rows():
    mixture = {"normalize": True, "rows_per_study_domain": 90, "sources": {"a": {"weight": 2.0}, "b": {"weight": 1.0}, "c": {}}}
    assert plan_sizes({"a": 1000, "b": 1000, "c": 1000}, {"a": "g1", "b": "g1", "c": "g2"}, mixture) == {"a": 60, "b": 30, "c": 90}
    # b has only 10 rows: a takes the rest of g1's 90 instead of b being resampled
    assert plan_sizes({"a": 1000, "b": 10, "c": 1000}, {"a": "g1", "b": "g1", "c": "g2"}, mixture) == {"a": 80, "b": 10, "c": 90}
    # the whole unit short (c has 50 of 90): resampled, the only case that duplicates rows
    assert plan_sizes({"a": 1000, "b": 1000, "c": 50}, {"a": "g1", "b": "g1", "c": "g2"}, mixture)["c"] == 90
    mixture["rows_per_study_domain"] = 7
    assert plan_sizes({"a": 5, "b": 5, "c": 9}, {"a": "g", "b": "g", "c": "g"}, mixture) == {"a": 3, "b": 2, "c": 2}


def test_single_domain_mixture_uses_every_row_once(shared_data, tmp_path):
    m = prepare(_cfg(tmp_path, shared_data, "mixture=puzzle", "mixture.val=[]"), tmp_path / "data")
    assert {s: r["written"] for s, r in m["rows"].items()} == {"kk": 4500, "lpb": 2482}


# ------------------------------------------------------------------ length filter


KK_FILES = "[kk_logic_rl/3ppl_train.parquet,kk_logic_rl/5ppl_train.parquet]"


@pytest.fixture(scope="module")
def tok_dir(tmp_path_factory, shared_data):
    """A tiny-model tokenizer (byte-level BPE, the tiny model's ChatML chat template) trained
    on puzzle text, saved without weights: the run's tokenizer for prepare and for veRL."""
    from mdrl.domains.row_io import read_records
    from mdrl.jobs.tiny_model import CHAT_TEMPLATE, build_tokenizer

    texts = [r["prompt"][0]["content"] for r in read_records(shared_data / "dcs/zebra/test.parquet")]
    texts += [r["quiz"] for r in read_records(shared_data / "kk_logic_rl/4ppl_test.parquet")]
    out = tmp_path_factory.mktemp("tiny_tok")
    tok = build_tokenizer(texts, 2000, out)
    assert tok.chat_template == CHAT_TEMPLATE
    return out


def _verl_len(tok, prompt) -> int:
    """What veRL's overlong filter measures (RLHFDataset.maybe_filter_out_long_prompts)."""
    from verl.utils.dataset.rl_dataset import normalize_token_ids

    return len(normalize_token_ids(tok.apply_chat_template(list(prompt), add_generation_prompt=True, tokenize=True)))


@pytest.mark.parametrize("template", ["released", "r1"])
def test_prompts_veRL_would_drop_are_dropped_before_balancing_and_counted(template, tok_dir, shared_data, tmp_path):
    from transformers import AutoTokenizer
    from verl.trainer.ppo.utils import create_rl_dataset

    from mdrl.domains import get_domain
    from mdrl.jobs.prepare import apply_template

    tok = AutoTokenizer.from_pretrained(tok_dir)
    base = [f"model.path={tok_dir}", f"template={template}", "mixture=puzzle", "mixture.balance=source", f"catalog.sources.kk.train.files={KK_FILES}", "mixture.val=[kk]"]
    template_cfg = OmegaConf.to_container(_cfg(tmp_path, shared_data, *base).template, resolve=True)
    if template == "r1":
        tok.chat_template = verl_config.PASSTHROUGH_CHAT_TEMPLATE  # what mdrl hands veRL for raw text
    # every prompt's length as veRL measures it, independently of prepare
    lengths = {}
    for source, files, domain, released in (
        ("lpb", ["dcs/zebra/train.parquet"], "lpb", True),
        ("kk", ["kk_logic_rl/3ppl_train.parquet", "kk_logic_rl/5ppl_train.parquet"], "kk", False),
    ):
        rows = [r for f in files for r in get_domain(domain).loaders[domain](str(shared_data / f), "train")]
        lengths[source] = [_verl_len(tok, apply_template(r, template_cfg, domain, released)["prompt"]) for r in rows]
    cap = sorted(lengths["lpb"])[len(lengths["lpb"]) // 2]  # LPB's zebra prompts are the long ones
    over = {s: sum(n > cap for n in ls) for s, ls in lengths.items()}
    assert over["lpb"] > over["kk"]

    cfg = _cfg(tmp_path, shared_data, *base, f"algorithm.max_prompt_length={cap}")
    m = prepare(cfg, tmp_path / "data")
    lf = m["length_filter"]
    assert lf["applied"] and lf["max_prompt_length"] == cap and lf["tokenizer"] == str(tok_dir)
    for source, ls in lengths.items():
        assert lf["dropped"][source] == over[source] == m["rows"][source]["dropped_by_length"]
        assert m["rows"][source]["loaded"] == len(ls) and m["rows"][source]["available"] == len(ls) - over[source]
        assert lf["dropped_pct"][source] == pytest.approx(round(100 * over[source] / len(ls), 2))

    # balanced on what survives the filter: LPB's surviving rows set the size, KK matches it
    survivors = len(lengths["lpb"]) - over["lpb"]
    assert {s: r["written"] for s, r in m["rows"].items()} == {"kk": survivors, "lpb": survivors}
    # and veRL's own filter finds nothing left to drop, so the balance holds in training
    written = pd.read_parquet(m["train_files"][0])
    assert max(_verl_len(tok, p) for p in written["prompt"]) <= cap
    vcfg = verl_config.build(cfg, m["train_files"], m["val_file"], str(tok_dir))
    assert len(create_rl_dataset(m["train_files"], vcfg.data, tok, None, is_train=True)) == len(written) == 2 * survivors
    assert m["val"]["kk"]["dropped_by_length"] == lf["val_dropped"]["kk"]


def test_length_filter_is_skipped_and_said_so_for_a_model_built_during_the_run(tmp_path):
    m = prepare(compose("train", [f"run_dir={tmp_path}"]), tmp_path / "data")  # model=tiny, built later
    assert m["length_filter"]["applied"] is False and "built during the run" in m["length_filter"]["reason"]


def test_unloadable_tokenizer_is_one_sentence(tmp_path, shared_data):
    cfg = _cfg(tmp_path, shared_data, f"model.path={tmp_path / 'no_such_model'}", "mixture=kk", "mixture.val=[]")
    with pytest.raises(UserError, match="could not load the tokenizer"):
        prepare(cfg, tmp_path / "data")


# ------------------------------------------------------------------ validation and data choice


def test_validation_defaults_to_the_full_paper_benchmarks(shared_data, tmp_path):
    cfg = _cfg(tmp_path, shared_data, "mixture=math_puzzle")
    assert list(cfg.mixture.val) == list(PAPER_BENCHMARKS) and cfg.mixture.val_rows is None
    m = prepare(_cfg(tmp_path, shared_data, "mixture=kk"), tmp_path / "data")
    assert {k: v["written"] for k, v in m["val"].items()} == PAPER_BENCHMARKS
    assert m["val_rows"] == sum(PAPER_BENCHMARKS.values())


def test_a_smaller_validation_sample_only_when_asked_and_drawn_at_random(shared_data, tmp_path):
    m = prepare(_cfg(tmp_path, shared_data, "mixture=kk", "mixture.val=[kk]", "mixture.val_rows=30"), tmp_path / "data")
    assert m["val"]["kk"] == {"group": "puzzle", "available": 600, "dropped_by_length": 0, "written": 30}
    val = pd.read_parquet(m["val_file"])
    people = {len(gt.split("\n")) for gt in (__import__("json").loads(g["ground_truth"])["solution_text_format"] for g in val["reward_model"])}
    assert len(people) > 2  # the KK file is ordered by people: a prefix would hold only 3-person quizzes


def test_manifest_says_which_half_of_coder1_was_used(shared_data, tmp_path):
    m = prepare(_cfg(tmp_path, shared_data, "mixture=coder1", "mixture.val=[]"), tmp_path / "data")
    data = m["rows"]["coder1"]["data"]
    assert data["loader"] == "leetcode" and data["coder1_halves"] == {"leetcode": 1890, "taco": 0}

    # where `mdrl data fetch` has put the authors' CodeR1-12k parquet, it is preferred; the
    # released test parquet (LeetCode + TACO rows, same layout) stands in for it here
    root = tmp_path / "root"
    (root / "dcs/code-r1-12k").mkdir(parents=True)
    shutil.copy(shared_data / "dcs/code-r1-12k/test.parquet", root / "dcs/code-r1-12k/train.parquet")
    m = prepare(_cfg(tmp_path, root, "mixture=coder1", "mixture.val=[]"), tmp_path / "data2")
    data = m["rows"]["coder1"]["data"]
    assert data["loader"] == "coder1" and data["files"] == ["dcs/code-r1-12k/train.parquet"]
    assert data["coder1_halves"] == {"leetcode": 200, "taco": 512}

    with pytest.raises(UserError, match="none of its data files were found"):
        prepare(_cfg(tmp_path, tmp_path / "empty", "mixture=coder1", "mixture.val=[]"), tmp_path / "data3")
