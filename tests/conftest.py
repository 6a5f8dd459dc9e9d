"""Shared fixtures. The shared data folder is found through MDRL_SHARED (default ../shared)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    if "MDRL_SHARED" not in os.environ and os.environ.get("MDRL_DATA"):
        return Path(os.environ["MDRL_DATA"]).resolve().parent  # MDRL_DATA is shared/data
    return Path(os.environ.get("MDRL_SHARED", REPO.parent / "shared")).resolve()


GET_DATA = ("set MDRL_SHARED to the folder holding data/ (or MDRL_DATA to data/ itself); "
            "'mdrl data fetch' downloads it (see README, Data)")


@pytest.fixture(scope="session")
def shared() -> Path:
    """Path of shared/ (paper files, benchmarks); tests needing it skip loudly when absent."""
    p = shared_dir()
    if not (p / "data").is_dir():
        pytest.skip(f"shared data not found at {p}: {GET_DATA}")
    return p


@pytest.fixture(scope="session")
def shared_data(shared: Path) -> Path:
    return shared / "data"


@pytest.fixture(autouse=True, scope="module")
def _fresh_scoring_pool():
    """Each test module starts without a scoring pool and leaves none behind.

    The pool is process-wide: one left by an earlier module keeps that module's plugins and
    shows up as extra child processes, so modules would depend on their order.
    """
    from mdrl.scoring.executor import shutdown

    shutdown()
    yield
    shutdown()


@pytest.fixture(autouse=True)
def _restore_environ():
    """Each test leaves os.environ as it found it.

    Code under test sets variables for the libraries it drives (the TRL backend points
    TENSORBOARD_LOGGING_DIR into its run directory, shell completion rewrites COMP_LINE);
    left behind, they would reach whichever test runs next, so results would depend on order.
    """
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def released_prompt():
    """``released_prompt(domain, question)``: the messages template=released renders for a
    bare question (the product's path for rows that come without the authors' prompt)."""
    from omegaconf import OmegaConf

    from mdrl.cli import compose
    from mdrl.jobs.templates import render

    cfg = OmegaConf.to_container(compose("train", ["run_dir=/unused", "template=released"]).template, resolve=True)
    return lambda domain, question: render(cfg, domain, question)["prompt"]
