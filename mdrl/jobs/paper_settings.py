"""The study's settings beside what mdrl composes for it: the source of docs/paper-settings.md.

Each row names a setting, the authors' value and where it comes from; the mdrl column is
read from the composed config of a preset (veRL keys from the complete veRL config mdrl
builds, ``mdrl:`` keys from mdrl's own config). A test regenerates the page and compares,
so the page cannot drift from the presets.

    python -m mdrl.jobs.paper_settings docs/paper-settings.md   # rewrite the page
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

PRESET = "dcs/triple/all_base"
RUN = "run.sh"  # the authors' run.sh + examples/grpo_trainer/math_and_code.sh
CONFIG = "config"  # their fork's verl/trainer/config/ppo_trainer.yaml (not overridden by run.sh)
CODE = "code"  # their fork's Python sources


@dataclasses.dataclass(frozen=True)
class Setting:
    key: str
    authors: Any
    source: str
    same: bool = True  # whether mdrl is meant to match; a mismatch either way fails the test
    why: str = ""


SETTINGS: tuple[Setting, ...] = (
    Setting("mdrl:model.path", "Qwen/Qwen2.5-7B", f"{RUN} (MODEL=qwen; qwen_ins: Qwen/Qwen2.5-7B-Instruct)"),
    Setting("mdrl:template.name", "released", "released data files + rl_dataset.py (compiled): apply_chat_template(chat, add_generation_prompt=True)"),
    Setting("mdrl:reward.scheme", "paper", "reward_score/__init__.py: format scores 0; zebra cell accuracy; others 0/1"),
    Setting("mdrl:mixture.balance", "group", "paper: dataset sizes normalised across math / code / puzzle"),
    Setting("mdrl:mixture.val_rows", None, "paper: full benchmark test sets"),
    Setting(
        "mdrl:mixture.val",
        ["math500", "aime24", "countdown", "humaneval", "mbpp", "kk", "zebralogic"],
        "paper: MATH500, AIME24, CountDown, HumanEval, MBPP, KK, ZebraLogicBench",
    ),
    Setting("algorithm.adv_estimator", "grpo", RUN),
    Setting("data.train_batch_size", 256, RUN),
    Setting("data.max_prompt_length", 512, RUN),
    Setting("data.max_response_length", 8192, RUN),
    Setting("data.filter_overlong_prompts", True, f"{CODE}: rl_dataset.py always drops prompts over max_prompt_length"),
    Setting("data.shuffle", True, CONFIG),
    Setting("actor_rollout_ref.model.use_remove_padding", True, RUN),
    Setting("actor_rollout_ref.model.enable_gradient_checkpointing", True, RUN),
    Setting("actor_rollout_ref.actor.optim.lr", 1e-6, RUN),
    Setting("actor_rollout_ref.actor.optim.lr_warmup_steps_ratio", 0.0, CONFIG),
    Setting("actor_rollout_ref.actor.optim.weight_decay", 0.01, f"{CODE}: fsdp_workers.py AdamW default"),
    Setting("actor_rollout_ref.actor.ppo_mini_batch_size", 32, RUN),
    Setting("actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu", 4, RUN),
    Setting("actor_rollout_ref.actor.ppo_epochs", 1, CONFIG),
    Setting("actor_rollout_ref.actor.shuffle", False, CONFIG),
    Setting("actor_rollout_ref.actor.use_kl_loss", True, RUN),
    Setting("actor_rollout_ref.actor.kl_loss_coef", 0.001, RUN),
    Setting("actor_rollout_ref.actor.kl_loss_type", "low_var_kl", RUN),
    Setting("actor_rollout_ref.actor.entropy_coeff", 0.001, CONFIG),
    Setting("actor_rollout_ref.actor.clip_ratio_low", 0.2, f"{CONFIG} (clip_ratio)"),
    Setting("actor_rollout_ref.actor.clip_ratio_high", 0.2, f"{CONFIG} (clip_ratio)"),
    Setting("actor_rollout_ref.actor.grad_clip", 1.0, CONFIG),
    Setting(
        "actor_rollout_ref.actor.loss_agg_mode",
        "token-mean per micro-batch",
        f"{CODE}: dp_actor.py masked_mean per micro-batch, divided by the accumulation steps",
        same=False,
        why="veRL 0.9.1's token-mean divides by the tokens of the whole mini-batch instead of averaging "
        "per-micro-batch means; mdrl keeps the installed veRL's loss rather than patching it",
    ),
    Setting(
        "actor_rollout_ref.actor.clip_ratio_c",
        "none (no dual-clip)",
        f"{CODE}: core_algos.compute_policy_loss",
        same=False,
        why="veRL 0.9.1 applies dual-clip (clip_ratio_c=3.0) to negative-advantage tokens; it binds only "
        "where the probability ratio exceeds 3, rare with one PPO epoch on fresh rollouts; kept at veRL's default",
    ),
    Setting("actor_rollout_ref.actor.fsdp_config.param_offload", False, RUN),
    Setting("actor_rollout_ref.actor.fsdp_config.optimizer_offload", False, RUN),
    Setting("actor_rollout_ref.ref.fsdp_config.param_offload", False, RUN),
    Setting("actor_rollout_ref.rollout.name", "vllm", RUN),
    Setting("actor_rollout_ref.rollout.n", 5, RUN),
    Setting("actor_rollout_ref.rollout.temperature", 1.0, CONFIG),
    Setting("actor_rollout_ref.rollout.top_p", 1, CONFIG),
    Setting("actor_rollout_ref.rollout.top_k", -1, CONFIG),
    Setting("actor_rollout_ref.rollout.gpu_memory_utilization", 0.5, RUN),
    Setting("actor_rollout_ref.rollout.tensor_model_parallel_size", 2, CONFIG),
    Setting("actor_rollout_ref.rollout.max_num_batched_tokens", 16384, RUN),
    Setting("actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu", 8, RUN),
    Setting("actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu", 8, RUN),
    Setting("actor_rollout_ref.rollout.val_kwargs.do_sample", False, f"{CODE}: ray_trainer.py validation (greedy)"),
    Setting("actor_rollout_ref.rollout.val_kwargs.n", 1, f"{CODE}: ray_trainer.py validation"),
    Setting("algorithm.use_kl_in_reward", False, f"{CODE}: ray_trainer.py skips the in-reward KL when use_kl_loss"),
    Setting("algorithm.kl_ctrl.kl_coef", 0.001, RUN),
    Setting("algorithm.norm_adv_by_std_in_grpo", True, f"{CODE}: core_algos.compute_grpo_outcome_advantage"),
    Setting("trainer.nnodes", 1, RUN),
    Setting("trainer.n_gpus_per_node", 8, RUN),
    Setting("trainer.total_epochs", 10, RUN),
    Setting("trainer.save_freq", 200, RUN),
    Setting("trainer.test_freq", 100, RUN),
    Setting("trainer.critic_warmup", 0, RUN),
    Setting("trainer.val_before_train", True, f"{CODE}: ray_trainer.py (val_before_train defaults to true)"),
    Setting(
        "trainer.logger",
        ["wandb"],
        RUN,
        same=False,
        why="mdrl logs to the console and TensorBoard so a run needs no account; add wandb with cluster.logger",
    ),
    Setting(
        "reward.reward_manager.name",
        "prime",
        f"{RUN} (reward_model.reward_manager=prime: a process pool)",
        same=False,
        why="mdrl scores through its own hook (reward.custom_reward_function) with its own worker "
        "pool and a hard time limit per item; veRL's naive manager only calls it",
    ),
)

DIFFERENCES_WITHOUT_A_KEY = (
    ("veRL version", "The authors ran their fork of veRL v0.2.0.post1; mdrl composes veRL 0.9.1's own config, so every key above is veRL 0.9.1's name for the setting."),
    ("Verifiers", "reward=paper keeps mdrl's verifiers (their correctness, not the released scorers' quirks: e.g. the released math scorer needs $...$ or \\boxed inside <answer> to parse)."),
    ("Validation sets", "The authors validated during training on their test files (CountDown, DeepScaleR test = MATH500 + AIME24, CodeR1 test); mdrl validates on the paper's seven benchmarks in full, so the training curves show the transfer the paper reports."),
    ("Length filter", "Both drop prompts over 512 tokens; mdrl does it while preparing, before balancing, so the study domains stay equal in size after the drop (the manifest counts the rows dropped per source)."),
    ("CodeR1-12k", "Only its LeetCode half (LeetCodeDataset v0.2.0, 1,890 rows) is public outside the Hugging Face hub; the authors' parquet is used where `mdrl data fetch` put it, and the manifest says which half was used."),
    ("KK training data", "The authors' KK train file is not in their repository; Logic-RL's 3-7 people files (same source) are used with the authors' base prompt layout rebuilt."),
)


def composed(preset: str = PRESET):
    """(mdrl config, veRL config) of ``preset``, as ``mdrl train +experiment=...`` builds them."""
    from mdrl.cli import compose
    from mdrl.jobs import verl_config

    cfg = compose("train", [f"+experiment={preset}", "run_dir=/RUN"])
    vcfg = verl_config.build(cfg, ["/RUN/data/train.parquet"], "/RUN/data/val.parquet", str(cfg.model.path))
    verl_config.validate(vcfg)
    return cfg, vcfg


def value(key: str, cfg, vcfg) -> Any:
    """The composed value of a row's key (``mdrl:`` keys from mdrl's config)."""
    from omegaconf import OmegaConf

    src, k = (cfg, key[5:]) if key.startswith("mdrl:") else (vcfg, key)
    v = OmegaConf.select(src, k, throw_on_missing=True)
    return OmegaConf.to_container(v, resolve=True) if OmegaConf.is_config(v) else v


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) == float(b)
    return a == b


def rows(preset: str = PRESET) -> list[dict]:
    cfg, vcfg = composed(preset)
    out = []
    for s in SETTINGS:
        got = value(s.key, cfg, vcfg)
        out.append({"setting": s, "mdrl": got, "matches": _same(got, s.authors)})
    return out


def _fmt(v: Any) -> str:
    text = "null" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
    return "`" + text.replace("|", "\\|") + "`"


def render(preset: str = PRESET) -> str:
    """The markdown page."""
    lines = [
        "# The study's settings in mdrl",
        "",
        "<!-- generated by `python -m mdrl.jobs.paper_settings docs/paper-settings.md`; tests/test_presets.py fails when it drifts -->",
        "",
        "Every setting of arXiv 2507.17512's runs beside the authors' value and where it comes from, and the value mdrl composes",
        f"for `mdrl train +experiment={preset}` (the other `conf/experiment/dcs/**` presets differ only in model, mixture and the",
        "setting the preset studies). Sources: **run.sh** = the authors' `run.sh` and `examples/grpo_trainer/math_and_code.sh`;",
        "**config** = their fork's `verl/trainer/config/ppo_trainer.yaml` (veRL v0.2.0.post1, not overridden by run.sh);",
        "**code** = their fork's Python sources; **paper** = the paper. Keys are veRL 0.9.1's; `mdrl:` keys are mdrl's own config.",
        "",
        "| setting | authors | source | mdrl | |",
        "|---|---|---|---|---|",
    ]
    whys = []
    for r in rows(preset):
        s = r["setting"]
        mark = "same" if r["matches"] else "differs (see below)"
        lines.append(f"| `{s.key}` | {_fmt(s.authors)} | {s.source} | {_fmt(r['mdrl'])} | {mark} |")
        if s.why:
            whys.append(f"- `{s.key}`: {s.why}.")
    lines += ["", "## Where mdrl differs on purpose", ""] + whys
    lines += [f"- {title}: {text}" for title, text in DIFFERENCES_WITHOUT_A_KEY]
    lines += _presets_section()
    return "\n".join(lines) + "\n"


def _presets_section() -> list[str]:
    from mdrl.cli import conf_dir
    from mdrl.jobs.presets import preset_names

    by_dir: dict[str, list[str]] = {}
    for name in preset_names(conf_dir()):
        folder, _, leaf = name.rpartition("/")
        by_dir.setdefault(folder, []).append(leaf)
    lines = [
        "",
        "## The runs as presets",
        "",
        "One file per run under `conf/experiment/` (Hydra's experiment pattern), each with the settings above:",
        "",
        "```",
        "mdrl train +experiment=dcs/single/math_base            # one run",
        "mdrl train -m '+experiment=glob(dcs/single/*)'         # the single-domain grid",
        "mdrl train +experiment=dcs/triple/all_base dry_run=true  # print the validated veRL config",
        "```",
        "",
        "| folder | presets |",
        "|---|---|",
    ]
    lines += [f"| `{folder}` | {', '.join(f'`{leaf}`' for leaf in leaves)} |" for folder, leaves in sorted(by_dir.items())]
    lines += [
        "",
        "`single`, `dual`, `triple`: the domain combinations (math = DSR + CountDown, code = CodeR1, puzzle = KK + LPB);",
        "`dataset`: one training set alone; `curriculum`: KK easy to hard, in one stage or five with policy refresh;",
        "`reward`: the puzzle domain under mdrl's other schemes; `template`: all three domains under mdrl's other templates.",
        "Not yet presets: the language (Chinese data) runs, which need Chinese wording mdrl does not have.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if argv:
        Path(argv[0]).write_text(text)
        print(f"wrote {argv[0]}", file=sys.stderr)
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
