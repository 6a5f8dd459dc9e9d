"""Which veRL checkpoint the next stage of a chain starts from (``latest_hf_checkpoint``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdrl.errors import UserError
from mdrl.jobs.verl_config import latest_hf_checkpoint


def _step(stage: Path, step: int | str, weights: str | None = "model.safetensors") -> Path:
    hf = stage / "checkpoints" / f"global_step_{step}" / "actor" / "huggingface"
    hf.mkdir(parents=True)
    (hf / "config.json").write_text("{}")
    if weights:
        (hf / weights).write_bytes(b"w")
    return hf


def test_the_step_veRLs_tracker_names_wins_over_a_higher_one(tmp_path):
    chosen = _step(tmp_path, 20)
    _step(tmp_path, 30)  # a later save the tracker does not (yet) name
    (tmp_path / "checkpoints" / "latest_checkpointed_iteration.txt").write_text("20\n")
    assert latest_hf_checkpoint(tmp_path) == str(chosen)


@pytest.mark.parametrize("tracker", [None, "garbage", "40"])  # absent, unreadable, naming a step not on disk
def test_without_a_usable_tracker_the_highest_step_by_number(tracker, tmp_path):
    _step(tmp_path, 9)
    top = _step(tmp_path, 10)  # 10 > 9 as numbers, though "10" < "9" as text
    _step(tmp_path, "final")  # not a step: ignored
    if tracker is not None:
        (tmp_path / "checkpoints" / "latest_checkpointed_iteration.txt").write_text(tracker)
    assert latest_hf_checkpoint(tmp_path) == str(top)


@pytest.mark.parametrize("weights", ["model.safetensors.index.json", "pytorch_model.bin"])
def test_sharded_and_bin_weights_count_as_weights(weights, tmp_path):
    assert latest_hf_checkpoint(tmp_path) is None  # nothing saved yet
    hf = _step(tmp_path, 3, weights)
    assert latest_hf_checkpoint(tmp_path) == str(hf)


def test_a_checkpoint_without_weights_is_one_sentence(tmp_path):
    _step(tmp_path, 5, weights=None)
    with pytest.raises(UserError, match="holds no model weights") as err:
        latest_hf_checkpoint(tmp_path)
    assert "\n" not in str(err.value)
