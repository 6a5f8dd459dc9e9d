"""``mdrl score``: JSONL of responses in, JSONL of scores out, config recorded beside it.

Input lines: {"id", "data_source", "response", "ground_truth", "extra_info"} (the format is
documented in ``mdrl/samples/README.md``). Output lines: {"id", "data_source", "score",
"details"}, exactly one per input line, in order. A line that is not a scorable item
(malformed JSON, not an object, missing keys, unknown data_source) scores 0 under every
reward scheme, with the reason in ``details.reason``; the run never aborts on one bad item.

Nothing is lost or mixed: before the first line is written, ``OUT.meta.json`` records the
input's sha256 and the reward settings. Output is flushed line by line, so a killed run
resumes after the last complete line, and only when the input and settings are the same
as those recorded; anything else is refused in one sentence (``resume=false`` starts over).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterator

from omegaconf import DictConfig, OmegaConf

from mdrl.errors import UserError
from mdrl.jobs.records import read_meta, write_meta
from mdrl.scoring import score_iter
from mdrl.scoring.core import SETTING_KEYS

_SURROGATE = re.compile("[\ud800-\udfff]")


def reward_settings(cfg: DictConfig) -> dict:
    """The plain-dict reward settings the verifiers and schemes read."""
    return OmegaConf.to_container(cfg.reward, resolve=True)  # type: ignore[return-value]


def scoring_settings(settings: dict) -> dict:
    """The part of the reward settings that changes scores (what a resume must match)."""
    return {k: settings.get(k) for k in SETTING_KEYS}


# ---------------------------------------------------------------- checks before any write


def check_workers(value: Any) -> int | None:
    """``workers`` as None (all cores) or an int >= 0 (0 scores inline, for debugging); the
    rule is the command's schema (mdrl/config/apps.py), for callers that skip the CLI."""
    from mdrl.config.apps import ScoreApp
    from mdrl.config.checks import check

    check({"workers": value}, ScoreApp, "")
    return value


def check_scheme(settings: dict) -> None:
    """Refuse reward settings the schema does not allow (an unknown scheme, an answer
    scheme that is not binary or proportional, ...) before the output is touched."""
    from mdrl.config.reward import check_settings

    check_settings(settings)


def check_paths(src: Path, dst: Path) -> None:
    """Input readable, output writable and distinct from the input; one sentence otherwise."""
    if not src.exists():
        raise UserError(f"input file not found: {src}")
    if not src.is_file():
        raise UserError(f"input {src} is not a file")
    if dst.resolve() == src.resolve() or (dst.exists() and os.path.samefile(dst, src)):
        raise UserError(f"output {dst} is the input file; choose another output path")
    if dst.is_dir():
        raise UserError(f"output {dst} is a directory; give a file path such as {dst / 'scores.jsonl'}")
    parent = dst.parent
    for up in [parent, *parent.parents]:
        if up.exists():
            if not up.is_dir():
                raise UserError(f"cannot write output {dst}: {up} is a file, not a directory")
            break
    try:
        parent.mkdir(parents=True, exist_ok=True)
        # append mode: proves we may write without truncating anything yet
        with dst.open("ab"):
            pass
    except OSError as exc:
        raise UserError(f"cannot write output {dst}: {exc.strerror or exc}") from None


# ---------------------------------------------------------------- reading


def fingerprint(path: Path) -> tuple[str, int]:
    """(sha256, number of lines) of ``path``; lines end at ``\\n`` only, a last unterminated one counts."""
    h = hashlib.sha256()
    n, last = 0, b"\n"
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return h.hexdigest(), n + (last != b"\n")


def clean_text(obj: Any) -> tuple[Any, bool]:
    """``obj`` with lone surrogates (which UTF-8 cannot encode) replaced by U+FFFD; and whether any were."""
    if isinstance(obj, str):
        fixed = _SURROGATE.sub("\ufffd", obj)
        return fixed, fixed != obj
    if isinstance(obj, list):
        pairs = [clean_text(v) for v in obj]
        return [p[0] for p in pairs], any(p[1] for p in pairs)
    if isinstance(obj, dict):
        out, hit = {}, False
        for k, v in obj.items():
            (ck, hk), (cv, hv) = clean_text(k), clean_text(v)
            out[ck] = cv
            hit = hit or hk or hv
        return out, hit
    return obj, False


def read_items(path: Path, skip: int) -> Iterator[dict]:
    """The input's items after the first ``skip`` lines; unscorable lines carry ``_bad``.

    Lines are split at ``\\n`` only: a bare ``\\r`` inside a JSON line is JSON whitespace and
    must not split one item into two (text mode would).
    """
    from mdrl.domains import domain_for_source, known_sources

    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if lineno <= skip:
                continue
            line = raw.decode("utf-8", errors="replace")
            if not line.strip():
                yield {"_bad": f"line {lineno} is empty", "id": f"line-{lineno}"}
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                yield {"_bad": f"malformed JSON on line {lineno}: {exc.msg}", "id": f"line-{lineno}"}
                continue
            if not isinstance(item, dict):
                yield {"_bad": f"line {lineno} is not a JSON object", "id": f"line-{lineno}"}
                continue
            item, had_surrogates = clean_text(item)
            if had_surrogates:
                item["_note"] = "input held lone UTF-16 surrogates, replaced by U+FFFD before scoring"
            item.setdefault("id", f"line-{lineno}")
            missing = [k for k in ("data_source", "response", "ground_truth") if k not in item]
            if missing:
                item["_bad"] = f"line {lineno} lacks {', '.join(missing)}"
            elif not isinstance(item["data_source"], str) or domain_for_source(item["data_source"]) is None:
                item["_bad"] = f"unknown data_source {item['data_source']!r} on line {lineno} (known: {', '.join(known_sources())})"
            yield item


def complete_lines(path: Path) -> tuple[int, int]:
    """(complete lines, byte length of them) in an existing output; a half-written tail is not counted."""
    if not path.exists():
        return 0, 0
    data = path.read_bytes()
    cut = data.rfind(b"\n") + 1
    return data[:cut].count(b"\n"), cut


# ---------------------------------------------------------------- resume decision


def resume_point(dst: Path, input_id: dict, settings: dict, resume: bool) -> int:
    """Lines of ``dst`` to keep: 0 to start over; refuses to mix inputs or settings."""
    done, cut = complete_lines(dst)
    size = dst.stat().st_size if dst.exists() else 0
    if not resume or size == 0:
        return 0
    meta = read_meta(dst)
    again = f"pass resume=false to overwrite {dst}, or choose another output"
    if meta is None or "input" not in meta:
        raise UserError(f"output {dst} exists but {dst}.meta.json does not record which input made it; {again}")
    if meta["input"].get("sha256") != input_id["sha256"]:
        raise UserError(f"output {dst} was scored from a different input ({meta['input'].get('path')}, sha256 {str(meta['input'].get('sha256'))[:12]}...); {again}")
    if meta.get("settings") != settings:
        raise UserError(f"output {dst} was scored with other reward settings (scheme {(meta.get('settings') or {}).get('scheme')!r}); {again}")
    if done > input_id["lines"]:
        raise UserError(f"output {dst} has more lines ({done}) than its input ({input_id['lines']}); {again}")
    if cut < size:
        # a crash left half a line: drop it so that item is scored again
        with dst.open("r+b") as fh:
            fh.truncate(cut)
    return done


# ---------------------------------------------------------------- run


def _unscorable(reason: str, settings: dict) -> dict:
    # Not a response at all: no scheme applies, so 0 (a format penalty would judge a format never seen).
    return {"score": 0.0, "details": {"reason": reason, "scheme": settings.get("scheme"), "correct": False, "scored": False}}


def _score_into(src: Path, dst: Path, done: int, total: int, settings: dict, workers: int, progress: bool) -> tuple[int, float]:
    """Append the scores of ``src``'s lines after the first ``done`` to ``dst``, flushed line by line
    (a crash loses at most the line being written); returns (lines scored, slowest item in s)."""
    good: list[dict] = []

    def scorable() -> Iterator[dict]:
        for item in read_items(src, done):
            good.append(item)
            # unscorable lines still pass through the pool (cheap) so results keep input order
            yield {"data_source": None, "response": None, "ground_truth": None} if "_bad" in item else item

    n, slowest = 0, 0.0
    results = score_iter(scorable(), settings, workers)
    if progress and total > done:
        from tqdm import tqdm

        results = tqdm(results, total=total - done, desc="mdrl score", unit="resp", dynamic_ncols=True)
    with dst.open("ab" if done else "wb") as out:
        for i, res in enumerate(results):
            item = good[i]
            good[i] = None  # type: ignore[call-overload]  # free memory as we go
            if "_bad" in item:
                res = _unscorable(item["_bad"], settings)
            elif "_note" in item:
                res["details"]["note"] = item["_note"]
            line: dict[str, Any] = {"id": item.get("id"), "data_source": item.get("data_source"), **res}
            out.write((json.dumps(clean_text(line)[0], ensure_ascii=False, default=str) + "\n").encode("utf-8"))
            out.flush()
            n += 1
            slowest = max(slowest, float(res["details"].get("elapsed_s", 0.0)))
    return n, slowest


def run(cfg: DictConfig) -> dict:
    """Score ``cfg.input`` into ``cfg.output``; returns the summary written beside it."""
    src, dst = Path(str(cfg.input)), Path(str(cfg.output))
    settings = reward_settings(cfg)
    workers = check_workers(cfg.workers)
    check_scheme(settings)
    check_paths(src, dst)
    try:
        sha, total = fingerprint(src)
    except OSError as exc:
        raise UserError(f"cannot read input {src}: {exc.strerror or exc}") from None
    input_id = {"path": str(src.resolve()), "sha256": sha, "lines": total}
    key = scoring_settings(settings)
    done = resume_point(dst, input_id, key, bool(cfg.resume))
    if done:
        print(f"[mdrl] resuming {dst}: {done} of {total} lines already scored", file=sys.stderr, flush=True)
    record = {"input": input_id, "settings": key}
    write_meta(dst, cfg, {"status": "running", "resumed_after": done}, record)

    t0 = time.perf_counter()
    n, slowest = _score_into(src, dst, done, total, settings, workers, bool(cfg.progress))
    elapsed = time.perf_counter() - t0
    summary = {
        "status": "complete",
        "input": str(src),
        "output": str(dst),
        "lines": total,
        "scored_this_run": n,
        "resumed_after": done,
        "seconds": round(elapsed, 3),
        "responses_per_s": round(n / elapsed, 2) if elapsed > 0 else None,
        "slowest_item_s": slowest,
        "mean_score_by_source": _means(dst),
    }
    write_meta(dst, cfg, summary, record)
    print(json.dumps(summary, indent=2))
    return summary


def _means(dst: Path) -> dict[str, float]:
    """Mean score per data_source over the whole output (this run and any resumed part)."""
    by_source: dict[str, list[float]] = defaultdict(list)
    with dst.open("rb") as fh:
        for raw in fh:
            row = json.loads(raw)
            by_source[str(row.get("data_source"))].append(float(row["score"]))
    return {k: sum(v) / len(v) for k, v in sorted(by_source.items())}
