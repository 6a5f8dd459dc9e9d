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
