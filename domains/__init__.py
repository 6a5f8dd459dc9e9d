"""Verifier domains and their registry: ``from mdrl.domains import domain_for_source``.

Words: a *domain* is one verifier and everything about its data (math, countdown, code,
kk, lpb). The paper's math / code / puzzle are *study domains*; the catalog calls them
``group`` and mixtures balance rows per group (math = DSR + CountDown, puzzle = KK + LPB).

The contract: a domain module
-----------------------------
A domain is ONE module that builds a :class:`~mdrl.domains.base.Domain` and passes it to
:func:`register` at import time (reasoning-gym's ``register_dataset`` is the model). That
object is everything the rest of mdrl knows about the domain:

``name``, ``data_sources``
    the registry key and every ``data_source`` alias it scores (case-insensitive, unique).
``verify(answer, ground_truth, extra_info) -> Verdict``
    pure; may be slow or hang: the scoring pool bounds it by ``timeout_s`` in a killable
    worker. It never sees the template or the ``<answer>`` tags (:mod:`mdrl.scoring` extracts
    the answer, and the reward scheme turns the Verdict into a number).
``wording``
    ``{"en": Wording(task=..., instruction=...), "zh-simplified": ..., "zh-traditional": ...}``:
    the task phrase ("Now the user asks you to solve {task}.") and answer instruction every
    prompt template fills in. English is required; a missing Chinese script falls back to it.
``difficulty(row) -> float``
    higher is harder; what curricula sort and select by (``extra_info.difficulty``).
``gold(row) -> str | None``
    the gold answer text (inside ``<answer>``) of a row, for the local backend's warm-up SFT.
    ``gold=None`` says the domain has no gold answers (its rows give no warm-up data).
``loaders``, ``generate``, ``knob``
    optional: loaders by name (``loader(path | None, split) -> rows``), a procedural generator
    (``generate(n=, seed=, split=, **settings) -> rows``) and the generator keyword that sets
    a row's difficulty with its range (:class:`~mdrl.domains.base.Knob`), which lets
    ``curriculum=adaptive`` and :func:`mdrl.curricula.difficulty.generate_at` generate rows
    at a chosen level.
``chinese``
    optional: how ``language=zh`` gets Chinese rows of the domain (released rows told in
    Chinese, a generator that speaks Chinese; :class:`~mdrl.domains.base.Chinese`).

:func:`register` refuses, in one sentence, a domain without verify, English wording,
difficulty or an explicit gold, so forgetting one fails at import instead of silently
(generic wording, difficulty 0, no warm-up data). Rows follow veRL's layout
(:func:`~mdrl.domains.row_io.verl_row`): ``extra_info.question`` holds the bare question the
templates wrap.

Where a domain is named outside its module
------------------------------------------
Nowhere but data: ``conf/catalog/*.yaml`` lists the released FILES a loader reads (paths,
which file is a benchmark, the study domain a source counts toward); these are facts about
data on disk, not about the domain. A mixture may name a registered domain directly
(``+mixture.sources.<domain>={weight: 1}`` with no catalog entry): the domain's generator
with its defaults is used, so a new generated domain needs no catalog edit at all (see
:mod:`mdrl.jobs.sources`). ``conf/template/released.yaml`` holds the authors' verbatim
prompts for the five paper domains; any other domain gets the R1 layout built from its own
wording.

Built-in domains are imported below. Out-of-tree domains load from the comma-separated
module names in the ``MDRL_PLUGINS`` environment variable (each module calls
:func:`register` at import, exactly as the built-in ones do); the scoring pool hands the
value it sees at start-up to its workers (:func:`load_plugins`), so plugin domains are
scored by the same executor, in ``mdrl score``, the veRL reward hook and the TRL reward.
Modules inside this package import each other relatively (``from .base import ...``), so the
folder imports as ``mdrl.domains`` or, from the repository root, as ``domains`` without
registering anything twice.
"""

import importlib as _importlib
import os as _os

from .base import (  # noqa: F401
    Chinese,
    Domain,
    Knob,
    Verdict,
    Wording,
    all_domains,
    domain_for_source,
    get_domain,
    known_sources,
    register,
    unregister,
)
from . import math_domain, countdown, code_domain, kk, lpb  # noqa: F401,E402  (registers)


def load_plugins(spec: str | None = None) -> None:
    """Import the comma-separated plugin modules in ``spec`` (default: ``$MDRL_PLUGINS``)."""
    spec = _os.environ.get("MDRL_PLUGINS", "") if spec is None else spec
    for mod in filter(None, (m.strip() for m in spec.split(","))):
        try:
            _importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (mod == exc.name or mod.startswith(exc.name + ".")):
                raise  # the plugin exists but imports something missing: its own traceback helps
            from mdrl.errors import UserError

            raise UserError(f"MDRL_PLUGINS names {mod!r}, which is not an importable module (is its folder on PYTHONPATH?)") from None


load_plugins()
