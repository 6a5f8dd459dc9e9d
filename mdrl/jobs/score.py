"""``mdrl score``: JSONL of responses in, JSONL of scores out, config recorded beside it.

Input lines: {"id", "data_source", "response", "ground_truth", "extra_info"}.
Output lines: {"id", "data_source", "score", "details"}, one per input line, in order.
A malformed line or unknown data_source scores 0 with a reason; the run never aborts on
one bad item. Output is flushed line by line; rerunning with the same output resumes after
the last line written.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterator

from omegaconf import DictConfig, OmegaConf

from mdrl.errors import UserError
from mdrl.jobs.records import write_meta
from mdrl.scoring import score_iter
from mdrl.scoring.core import failure


def reward_settings(cfg: DictConfig) -> dict:
    """The plain-dict reward settings the verifiers and schemes read."""
    return OmegaConf.to_container(cfg.reward, resolve=True)  # type: ignore[return-value]


def _read_items(path: Path, skip: int) -> Iterator[dict]:
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            if lineno <= skip:
                continue
            if not line.strip():
                yield {"_bad": "empty line", "id": f"line-{lineno}"}
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                yield {"_bad": f"malformed JSON on line {lineno}: {exc.msg}", "id": f"line-{lineno}"}
                continue
            if not isinstance(item, dict):
                yield {"_bad": f"line {lineno} is not a JSON object", "id": f"line-{lineno}"}
                continue
            item.setdefault("id", f"line-{lineno}")
            missing = [k for k in ("data_source", "response", "ground_truth") if k not in item]
            if missing:
                item["_bad"] = f"line {lineno} lacks {', '.join(missing)}"
            yield item


def _count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as fh:
        data = fh.read()
    # A crash can leave a half-written last line: drop it so it is scored again.
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with path.open("r+b") as fh:
            fh.truncate(cut)
        data = data[:cut]
    return data.count(b"\n")


def run(cfg: DictConfig) -> dict:
    """Score ``cfg.input`` into ``cfg.output``; returns the summary written beside it."""
    src, dst = Path(str(cfg.input)), Path(str(cfg.output))
    if not src.is_file():
        raise UserError(f"input file not found: {src}")
    settings = reward_settings(cfg)
    total = sum(1 for _ in src.open("rb"))
    done = _count_lines(dst) if cfg.resume else 0
    if done > total:
        raise UserError(f"output {dst} has more lines than input {src}; pass resume=false to start over")
    dst.parent.mkdir(parents=True, exist_ok=True)

    good: list[dict] = []

    def scorable() -> Iterator[dict]:
        for item in _read_items(src, done):
            good.append(item)
            if "_bad" in item:
                # routed through the pool's unknown-source path: cheap, and keeps order
                yield {"data_source": None, "response": None, "ground_truth": None}
            else:
                yield item

    t0 = time.perf_counter()
    by_source: dict[str, list[float]] = defaultdict(list)
    slowest = 0.0
    results = score_iter(scorable(), settings, cfg.workers)
    if cfg.progress:
        from tqdm import tqdm

        results = tqdm(results, total=total - done, initial=0, desc="mdrl score", unit="resp", dynamic_ncols=True)
    with dst.open("a" if done else "w", encoding="utf-8") as out:
        for i, res in enumerate(results):
            item = good[i]
            good[i] = None  # type: ignore[call-overload]  # free memory as we go
            if "_bad" in item:
                res = failure(item["_bad"], settings)
            line: dict[str, Any] = {"id": item.get("id"), "data_source": item.get("data_source"), **res}
            out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
            out.flush()
            by_source[str(item.get("data_source"))].append(res["score"])
            slowest = max(slowest, float(res["details"].get("elapsed_s", 0.0)))
    elapsed = time.perf_counter() - t0
    n = sum(len(v) for v in by_source.values())
    summary = {
        "input": str(src),
        "output": str(dst),
        "scored_this_run": n,
        "resumed_after": done,
        "seconds": round(elapsed, 3),
        "responses_per_s": round(n / elapsed, 2) if elapsed > 0 else None,
        "slowest_item_s": slowest,
        "mean_score_by_source": {k: sum(v) / len(v) for k, v in sorted(by_source.items())},
    }
    write_meta(dst, cfg, summary)
    print(json.dumps(summary, indent=2))
    return summary
