"""Scoring one response: answer extraction, the domain's verifier, the reward scheme.

``score_one`` is the single function every entry point ends in (``mdrl score``, veRL's
reward hook, TRL's reward function, ``mdrl eval``); the executor runs it in worker
processes under a hard wall-clock limit.
"""

from __future__ import annotations

import json
import time
from typing import Any, Mapping

from mdrl.config.reward import SETTING_KEYS, default_settings  # noqa: F401 - SETTING_KEYS re-exported
from mdrl.domains import domain_for_source, known_sources
from mdrl.domains.base import Verdict
from mdrl.scoring.answer import extract_answer, is_well_formed
from mdrl.scoring.schemes import get_scheme

# reward=binary's settings, from the one schema (mdrl/config/reward.py); SETTING_KEYS (the
# keys a scoring call reads) comes from there too and stays importable from here.
DEFAULT_SETTINGS: dict = default_settings()


def parse_ground_truth(gt: Any) -> Any:
    """Ground truths may arrive as JSON text, dicts, or numpy-backed containers; normalise."""
    if hasattr(gt, "tolist") and not isinstance(gt, (str, bytes)):
        gt = gt.tolist()
    if isinstance(gt, bytes):
        gt = gt.decode("utf-8", "replace")
    return gt


def item_timeout(data_source: Any, settings: Mapping) -> float:
    """The hard wall-clock limit for one item: the domain's, unless settings override it."""
    dom = domain_for_source(data_source) if isinstance(data_source, str) else None
    override = settings.get("item_timeout_s")
    if override:
        return float(override)
    if dom is None:
        return 5.0
    opts = (settings.get("domains") or {}).get(dom.name) or {}
    # A code item runs a program whose own limit may be raised in settings: keep headroom.
    if "timeout_s" in opts:
        return max(dom.timeout_s, float(opts["timeout_s"]) + 5.0)
    return dom.timeout_s


def failure(reason: str, settings: Mapping, **details: Any) -> dict:
    """The result of an item that never reached a verdict (malformed, timeout, crash)."""
    verdict = Verdict.wrong(reason, **details)
    try:
        score = float(get_scheme(settings.get("scheme", "binary"))(verdict, False, settings))
    except Exception:  # noqa: BLE001 - settings no schema checked (direct API calls): still never raise
        score = 0.0
    return {"score": score, "details": verdict.details}


def score_one(
    data_source: Any,
    response: Any,
    ground_truth: Any,
    extra_info: Mapping | None = None,
    settings: Mapping | None = None,
) -> dict:
    """Score one response; returns {"score": float, "details": {...}} and never raises."""
    settings = settings or DEFAULT_SETTINGS
    t0 = time.perf_counter()
    try:
        result = _score(data_source, response, ground_truth, extra_info, settings)
    except Exception as exc:  # noqa: BLE001 - a verifier bug must cost one item, not the run
        result = failure(f"verifier error: {type(exc).__name__}: {str(exc)[:200]}", settings)
    result["details"]["elapsed_s"] = round(time.perf_counter() - t0, 4)
    return result


def _score(data_source: Any, response: Any, ground_truth: Any, extra_info: Any, settings: Mapping) -> dict:
    scheme_name = settings.get("scheme", "binary")
    scheme_fn = get_scheme(scheme_name)
    fmt = settings.get("format") or {}
    dom = domain_for_source(data_source)
    if dom is None:
        return failure(f"unknown data_source {data_source!r} (known: {', '.join(known_sources())})", settings)
    if not isinstance(response, str):
        return failure("response is not a string", settings, domain=dom.name)
    well_formed = is_well_formed(response, bool(fmt.get("require_think_open", False)))
    answer = extract_answer(response)
    if answer is None:
        verdict = Verdict.wrong("no <answer> tag")
    else:
        opts = dict((settings.get("domains") or {}).get(dom.name) or {})
        info = extra_info if isinstance(extra_info, Mapping) else None
        verdict = dom.verify(answer, parse_ground_truth(ground_truth), info, **opts)
    # schemes that differ per domain (paper) read the item's domain from their settings
    score = float(scheme_fn(verdict, well_formed, {**settings, "domain": dom.name}))
    details = {
        "domain": dom.name,
        "scheme": scheme_name,
        "correct": bool(verdict.correct),
        "fraction": float(verdict.fraction),
        "well_formed": well_formed,
        **verdict.details,
    }
    return {"score": score, "details": _jsonable(details)}


def _jsonable(obj: Any) -> Any:
    try:
        json.dumps(obj)
        return obj
    except (TypeError, ValueError):
        return json.loads(json.dumps(obj, default=str))
