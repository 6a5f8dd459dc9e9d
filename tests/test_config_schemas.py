"""Typed configs (mdrl/config): bad values end in one sentence at composition, defaults
live once, internal schema files are no options, every option composes and validates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from mdrl.cli import compose, main
from mdrl.config import MERGED

CONF = Path(__file__).resolve().parents[1] / "conf"


def refused(capsys, argv: list[str]) -> str:
    """Run ``mdrl argv`` in-process; it must exit 2 with one line on stderr, no traceback."""
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"mdrl {argv[0]}: "), lines[0]
    return lines[0]


# (command line, words the one sentence must hold: the key, the bad value, what is allowed)
BAD = [
    (["score", "input=a", "output=b", "reward.scheme=bogus"], ["reward.scheme", "'bogus'", "binary, format, paper, proportional"]),
    (["score", "input=a", "output=b", "reward=format", "reward.format.answer_scheme=format"],
     ["reward.format.answer_scheme", "'format'", "one of binary, proportional"]),
    (["score", "input=a", "output=b", "workers=-1"], ["workers", "-1", "whole number >= 0 or null"]),
    (["score", "input=a", "output=b", "reward.item_timeout_s=0"], ["reward.item_timeout_s", "not 0", "> 0 or null"]),
    (["score", "input=a", "output=b", "reward.format.bonus=abc"], ["reward.format.bonus", "'abc'", "a number"]),
    (["score", "input=a", "output=b", "reward.domains.code.timeout_s=-5"], ["reward.domains.code.timeout_s", "-5", "> 0 and <= 600"]),
    (["score", "input=a", "output=b", "reward.domains.code.memory_mb=1.5"], ["reward.domains.code.memory_mb", "'1.5'", "whole number >= 64"]),
    (["score", "input=a", "output=b", "reward.domains.code.isolation=none"], ["isolation", "'none'", "auto, userns, no_namespaces, basic"]),
    (["score", "input=a", "output=b", "reward.domains.code.backend=docker"], ["reward.domains.code.backend", "local, sandbox_fusion"]),
    (["score", "input=a", "output=b", "scheme=bogus"], ["unknown config key 'scheme'", "did you mean reward.scheme?"]),
    (["train", "dry_run=true", "backend=bogus"], ["backend", "'bogus'", "auto, verl, trl"]),
    (["train", "dry_run=true", "template.kind=bogus"], ["template.kind", "'bogus'", "raw, chat, released, none"]),
    (["train", "dry_run=true", "model.rollout_tp=0"], ["model.rollout_tp", "not 0", ">= 1"]),
    (["train", "dry_run=true", "model.params_b=-7"], ["model.params_b", "-7", "> 0 or null"]),
    (["train", "dry_run=true", "model.default_template=chatml"], ["model.default_template", "'chatml'", "qwen_chat", "r1"]),
    (["train", "dry_run=true", "model.build.hidden_size=66"], ["model.build.hidden_size", "66", "multiple of model.build.num_attention_heads"]),
    (["train", "dry_run=true", "algorithm.lr=0"], ["algorithm.lr", "not 0", "> 0"]),
    (["train", "dry_run=true", "algorithm.adv_estimator=ppo"], ["algorithm.adv_estimator", "'ppo'", "gae", "grpo"]),
    (["train", "dry_run=true", "algorithm.loss_agg_mode=mean"], ["algorithm.loss_agg_mode", "token-mean"]),
    (["train", "dry_run=true", "algorithm.gpu_memory_utilization=1.5"], ["algorithm.gpu_memory_utilization", "<= 1"]),
    (["train", "dry_run=true", "cluster.scoring_actors=0"], ["cluster.scoring_actors", ">= 1"]),
    (["train", "dry_run=true", "cluster.gpus_per_node=many"], ["cluster.gpus_per_node", "'many'", "auto or"]),
    (["train", "dry_run=true", "curriculum=easy_to_hard", "curriculum.stages=0"], ["curriculum.stages", "whole number >= 1"]),
    (["train", "dry_run=true", "curriculum.reverse=true"], ["curriculum.reverse"]),  # curriculum=none has no order to reverse
    (["train", "dry_run=true", "trl.num_generations=1"], ["trl.num_generations", "not 1", ">= 2"]),
    (["train", "dry_run=true", "language.script=latin"], ["language.script", "simplified, traditional"]),
    (["prepare", "mixture.balance=domain"], ["mixture.balance", "'domain'", "group, source"]),
    (["prepare", "mixture.sources.countdown3.weight=-1"], ["mixture.sources.countdown3.weight", "not -1", ">= 0"]),
    (["eval", "n=0"], ["n must be", "not 0", ">= 1"]),
    (["eval", "top_p=0"], ["top_p", "> 0 and <= 1"]),
    (["eval", "backend=tgi"], ["backend", "'tgi'", "auto, vllm, hf"]),
    (["eval", "workers=-2"], ["workers", "-2"]),
    (["eval", "steps=first"], ["steps", "'first'", "all, last"]),
    (["eval", "protocol=dcs", "protocol.shots.kk=-1"], ["protocol.shots.kk", "-1", ">= 0"]),
    (["analyze", "results=r.parquet", "ks=[0,1]"], ["ks[0]", "not 0", ">= 1"]),
    (["analyze", "results=r.parquet", "ks=5"], ["ks must be a list of whole numbers >= 1, not 5"]),
    (["analyze", "results=r.parquet", "steps=first"], ["steps", "last, all"]),
    (["analyze", "results=r.parquet", "confidence=95"], ["confidence", "95"]),
    (["data", "bogus"], ["action", "'bogus'", "fetch, list"]),
    (["data", "timeout_s=0"], ["timeout_s", "> 0"]),
]


@pytest.mark.parametrize("argv, words", BAD, ids=[" ".join(a[1:]) for a, _ in BAD])
def test_bad_values_are_one_sentence_naming_key_value_and_choices(capsys, argv, words):
    line = refused(capsys, argv)
    for word in words:
        assert word in line, (word, line)


def test_a_sweep_job_with_a_bad_value_fails_alone_in_one_sentence(tmp_path):
    """Under -m the values differ per job: each job is checked before it runs."""
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "data_source": "countdown", "response": "x", "ground_truth": {"target": 3, "numbers": [1, 2]}}\n')
    proc = subprocess.run(
        [sys.executable, "-m", "mdrl.cli", "score", "-m", f"input={src}", f"output={tmp_path}/out.jsonl", "workers=0,-1",
         f"hydra.sweep.dir={tmp_path}/sweep"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "mdrl score: workers must be a whole number >= 0 or null, not -1" in proc.stderr
    assert "1 of 2 jobs failed" in proc.stderr
    assert (tmp_path / "out.jsonl").is_file()  # the good job ran


def test_reward_defaults_live_in_the_schema_only():
    """What conf/reward composes to is the dataclass's defaults; the scorer's fallback is the same."""
    from mdrl.config.reward import default_settings
    from mdrl.scoring.core import DEFAULT_SETTINGS

    for scheme in ("binary", "proportional", "format", "paper"):
        composed = OmegaConf.to_container(compose("score", ["input=a", "output=b", f"reward={scheme}"]).reward)
        assert composed == {**default_settings(), "scheme": scheme}
    assert DEFAULT_SETTINGS == default_settings()
    # the option files set only what they change
    for path in (CONF / "reward").glob("*.yaml"):
        keys = [k for k in OmegaConf.load(path) if k != "defaults"]
        assert keys == ["scheme"], (path.name, keys)


def test_format_scheme_takes_its_numbers_from_the_settings():
    from mdrl.scoring.core import score_one

    good = "<think>x</think><answer>(1 + 2)</answer>"
    gt = {"target": 3, "numbers": [1, 2]}
    settings = compose("score", ["input=a", "output=b", "reward=format", "reward.format.bonus=0.25", "reward.format.penalty=-0.5"]).reward
    plain = OmegaConf.to_container(settings)
    assert score_one("countdown", good, gt, None, plain)["score"] == pytest.approx(1.25)
    assert score_one("countdown", "(1 + 2)", gt, None, plain)["score"] == pytest.approx(-0.5)
    # settings without a format block fall back to the schema's own defaults
    assert score_one("countdown", good, gt, None, {"scheme": "format"})["score"] == pytest.approx(1.1)


def test_score_one_never_raises_on_settings_no_schema_checked():
    from mdrl.scoring.core import score_one

    out = score_one("countdown", "<answer>1+2</answer>", {"target": 3, "numbers": [1, 2]}, None,
                    {"scheme": "format", "format": {"answer_scheme": "format"}})
    assert out["score"] == 0.0 and "verifier error" in out["details"]["reason"]


@pytest.mark.parametrize("group", sorted(set(MERGED) | {"template"}))
def test_internal_files_are_not_options_of_a_group(group):
    """Hydra lists every file of a group folder as an option (help, completion, glob sweeps)."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from mdrl.cli import conf_dir

    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=conf_dir(), version_base="1.3"):
            options = GlobalHydra.instance().config_loader().get_group_options(group)
    finally:
        GlobalHydra.instance().clear()
    assert options and not [o for o in options if o.startswith("_")], options
    if group == "reward":
        assert options == ["binary", "format", "paper", "proportional"]


def test_help_lists_the_schemes_and_no_internal_file(capsys):
    assert main(["score", "--help"]) == 0
    out = capsys.readouterr().out
    assert "reward      binary, format, paper, proportional  (default: binary)" in out
    assert "_common" not in out and "_schema" not in out


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml") if not p.stem.startswith("_"))


@pytest.mark.parametrize(
    "override",
    [f"{g}={o}" for g in ("reward", "algorithm", "model", "cluster", "curriculum", "mixture", "template", "language") for o in _options(g)],
)
def test_every_option_composes_and_passes_its_schema(override):
    cfg = compose("train", [override, "run_dir=/RUN"])  # compose validates
    group, option = override.split("=")
    node = cfg[group]
    chosen = node.scheme if group == "reward" else node.name
    assert chosen in (option, "easy_to_hard")  # staged_puzzle orders easy to hard


def test_dead_keys_are_gone():
    cfg = compose("train", ["model=qwen2.5-7b-base", "run_dir=/RUN"])
    assert "tokenizer" not in cfg.model and "kind" not in cfg.model
    assert list(compose("train", ["curriculum=none", "run_dir=/RUN"]).curriculum) == ["name"]
    ordered = compose("train", ["curriculum=easy_to_hard", "run_dir=/RUN"]).curriculum
    assert (ordered.stages, ordered.policy_refresh, ordered.reverse) == (1, True, False)


@pytest.mark.parametrize("group", ["reward", "algorithm", "model", "cluster", "curriculum"])
def test_option_files_set_only_what_differs_from_the_schema(group):
    """Defaults once: an option file restating a schema default would be a second copy."""
    import dataclasses

    from mdrl.config import MERGED

    def restated(values, schema, prefix=""):
        fields = {f.name: f for f in dataclasses.fields(schema)}
        for key, value in values.items():
            f = fields.get(key)
            # the option's identity (its name; reward=binary's scheme) is said in every file
            if f is None or key in ("name", "scheme") or f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                continue
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            if dataclasses.is_dataclass(default) and isinstance(value, dict):
                yield from restated(value, type(default), f"{prefix}{key}.")
            elif value == default and not (isinstance(value, bool) != isinstance(default, bool)):
                yield f"{prefix}{key}"

    for path in sorted((CONF / group).glob("*.yaml")):
        values = OmegaConf.to_container(OmegaConf.load(path))
        parents = [d for d in values.pop("defaults", []) if isinstance(d, str) and "_schema" in d]
        if not parents:  # extends another option (e.g. qwen2.5-0.5b-random extends tiny)
            continue
        schema = MERGED[group][parents[0].split("/")[-1].split("@")[0]]
        assert not list(restated(values, schema)), (path.name, list(restated(values, schema)))
