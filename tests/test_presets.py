"""Every run of the study as a preset: each composes, passes veRL's validate_config with the
study's settings, the single-domain grid launches as one Hydra multirun, and
docs/paper-settings.md matches what the presets compose to."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from mdrl.cli import compose, conf_dir, main
from mdrl.jobs import paper_settings, verl_config
from mdrl.jobs.presets import preset_names

REPO = Path(__file__).resolve().parents[1]
# the runs of the paper (the training-detail study presets under study/ are tested in test_study_presets.py)
PRESETS = [p for p in preset_names(conf_dir()) if p.startswith("dcs/")]
GRIDS = {
    "single": {f"{d}_{m}" for d in ("math", "code", "puzzle") for m in ("base", "instruct")},
    "dual": {f"{d}_{m}" for d in ("math_code", "math_puzzle", "code_puzzle") for m in ("base", "instruct")},
    "triple": {"all_base", "all_instruct"},
}


def test_the_paper_grids_are_all_there():
    for grid, names in GRIDS.items():
        assert {p.split("/")[-1] for p in PRESETS if p.startswith(f"dcs/{grid}/")} == names
    assert len(PRESETS) >= 40 and not any("/_" in p or p.startswith("_") for p in PRESETS)


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_composes_and_passes_veRLs_validation(preset, tmp_path):
    cfg = compose("train", [f"+experiment={preset}", f"run_dir={tmp_path}"])
    vcfg = verl_config.build(cfg, [str(tmp_path / "train.parquet")], str(tmp_path / "val.parquet"), str(cfg.model.path))
    verl_config.validate(vcfg)
    name = preset.split("/")[-1]
    studied = preset.split("/")[1]
    # the study's settings, unless the preset studies that very setting
    assert cfg.template.name == ("released" if studied != "template" else name.split("_", 1)[1].rsplit("_", 1)[0])
    assert cfg.reward.scheme == ("paper" if studied != "reward" else name.split("_")[1])
    assert cfg.model.path == ("Qwen/Qwen2.5-7B" if name.endswith("_base") else "Qwen/Qwen2.5-7B-Instruct")
    assert (vcfg.trainer.nnodes, vcfg.trainer.n_gpus_per_node) == (1, 8)
    a = vcfg.actor_rollout_ref
    assert (a.actor.optim.lr, a.actor.entropy_coeff, a.actor.kl_loss_coef, a.rollout.n) == (1e-6, 0.001, 0.001, 5)
    assert (vcfg.data.train_batch_size, a.actor.ppo_mini_batch_size, a.actor.ppo_micro_batch_size_per_gpu) == (256, 32, 4)
    assert (vcfg.data.max_prompt_length, vcfg.data.max_response_length, vcfg.trainer.total_epochs) == (512, 8192, 10)
    assert a.rollout.log_prob_micro_batch_size_per_gpu == 8 and a.rollout.max_num_batched_tokens == 16384
    if cfg.template.name == "released":
        assert a.model.custom_chat_template is None  # the model's own chat template, as the authors
    assert vcfg.data.shuffle == (cfg.curriculum.name == "none")
    assert cfg.cluster.experiment == preset.replace("/", "-")


def test_single_domain_grid_launches_as_one_multirun(capsys, tmp_path):
    rc = main(["train", "-m", "+experiment=glob(dcs/single/*)", "dry_run=true", f"hydra.sweep.dir={tmp_path}"])
    assert rc == 0
    # one job per preset, each in a directory of its own (no nested folders from the preset's slashes)
    jobs = sorted(p.parent for p in tmp_path.glob("*/.hydra"))
    assert len(jobs) == len(GRIDS["single"]) and all("single" in j.name for j in jobs)
    ran = {str(OmegaConf.load(j / ".hydra" / "config.yaml").cluster.experiment) for j in jobs}
    assert ran == {f"dcs-single-{name}" for name in GRIDS["single"]}
    # every job printed its validated veRL config (dry run)
    assert capsys.readouterr().out.count("adv_estimator: grpo") == len(GRIDS["single"])


def test_settings_page_is_what_the_presets_compose_to():
    page = (REPO / "docs" / "paper-settings.md").read_text()
    assert page == paper_settings.render(), "docs/paper-settings.md is stale: run python -m mdrl.jobs.paper_settings docs/paper-settings.md"
    # every setting matches the authors' value unless it says why not
    for row in paper_settings.rows():
        s = row["setting"]
        assert row["matches"] == s.same, (s.key, s.authors, row["mdrl"])
        assert s.same or s.why, s.key
