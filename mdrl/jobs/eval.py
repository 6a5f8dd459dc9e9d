"""``mdrl eval``: generate (or read) responses for benchmarks, score them, one row per sample.

Flow: benchmarks from the catalog -> prompts through the chosen template -> for every model
state ``model=`` names (a HF model, or each checkpoint of a TRL/veRL run) -> generation in
durable batches (vLLM on a GPU, transformers otherwise) or responses read from
``generations=FILE`` -> the shared scoring path (``mdrl.scoring.score_batch``, the executor
``mdrl score`` uses) -> rows appended to the results parquet (:mod:`mdrl.jobs.results`).
A rerun resumes after the last finished batch; a changed setting never reuses old rows.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Mapping

from omegaconf import DictConfig, OmegaConf

from mdrl.domains.row_io import row_ground_truth
from mdrl.errors import UserError
from mdrl.jobs.checkpoints import Checkpoint, discover, materialise
from mdrl.jobs.generate import Decoding, choose_backend, load_tokenizer, make_generator, prompt_text
from mdrl.jobs.records import write_meta
from mdrl.jobs.results import ResultsTable, changed_settings, stable_hash, text_hash
from mdrl.jobs.sources import load_entry
from mdrl.jobs.templates import render


def log(msg: str) -> None:
    print(f"[mdrl eval] {msg}", file=sys.stderr, flush=True)


# -- benchmarks ------------------------------------------------------------------------------
def problem_ids(rows: list[dict]) -> list[str]:
    """Stable ids: the data's own task/puzzle id where it is unique, else the row position."""
    for key in ("task_id", "zebra_id", "id"):
        ids = [str((r.get("extra_info") or {}).get(key, "")) for r in rows]
        if all(ids) and len(set(ids)) == len(ids):
            return ids
    return [str(i) for i in range(len(rows))]


def load_benchmark(name: str, catalog: Mapping, limit: int | None) -> tuple[str, list[dict]]:
    """(domain, rows) of one catalog benchmark, cut to the first ``limit`` problems."""
    entry = (catalog.get("benchmarks") or {}).get(name)
    if entry is None:
        raise UserError(f"unknown benchmark {name!r} (known: {', '.join(catalog.get('benchmarks') or {})})")
    rows = load_entry(entry, entry["domain"], catalog["data_root"], "test", f"benchmark {name}")
    if not rows:
        raise UserError(f"benchmark {name!r} has no rows")
    for r, pid in zip(rows, problem_ids(rows)):
        r["_problem_id"] = pid
    return entry["domain"], rows[: int(limit)] if limit else rows


def benchmark_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [b.strip() for b in value.split(",") if b.strip()]
    return [str(b) for b in value]


# -- settings that define a row --------------------------------------------------------------
def model_fingerprint(path: str) -> dict:
    """What identifies a model state: its path plus its config and weight file sizes/mtimes."""
    p = Path(path)
    if not p.is_dir():
        return {"id": path}
    files = sorted(f for f in p.iterdir() if f.is_file() and (f.suffix in (".safetensors", ".bin", ".json")))
    return {"path": str(p.resolve()), "files": [(f.name, f.stat().st_size, int(f.stat().st_mtime)) for f in files]}


def row_settings(cfg: Mapping, ckpt: Checkpoint | None, benchmark: str, source: str | None) -> dict:
    """Everything that changes a sample; its hash is the row's config_hash."""
    settings = {
        "benchmark": benchmark,
        "model": model_fingerprint(ckpt.path) if ckpt else None,
        "step": ckpt.step if ckpt else None,
        "generations": source,
        "template": cfg["template"] if source is None else cfg["template"].get("name"),
        "decoding": None if source else {k: cfg[k] for k in ("n", "temperature", "top_p", "max_tokens", "seed")},
        "reward": cfg["reward"],
        "protocol": (cfg.get("protocol") or {}).get("name"),
    }
    return json.loads(json.dumps(settings, default=str))  # plain JSON types, as stored in configs.json


# -- the run ---------------------------------------------------------------------------------
# what resuming and the summary need from the table (never the responses)
BOOK_COLUMNS = ["run", "step", "benchmark", "problem_id", "sample_idx", "config_hash"]
SUMMARY_COLUMNS = [*BOOK_COLUMNS, "score", "correct", "details", "tokens"]


class Evaluator:
    """One ``mdrl eval`` invocation over its benchmarks and model states."""

    def __init__(self, cfg: DictConfig) -> None:
        self.cfg = OmegaConf.to_container(cfg, resolve=True)
        c = self.cfg
        self.table = ResultsTable(c["output"])
        self.settings = c["reward"]
        self.benchmarks = benchmark_list(c["benchmarks"])
        if not self.benchmarks:
            raise UserError("no benchmarks given (benchmarks=[math500,...])")
        for key in ("n", "max_tokens", "batch_problems"):
            if int(c[key]) < 1:
                raise UserError(f"{key} must be at least 1, not {c[key]}")
        if not 0 < float(c["top_p"]) <= 1:
            raise UserError(f"top_p must be in (0, 1], not {c['top_p']}")
        if float(c["temperature"]) < 0:
            raise UserError(f"temperature must be 0 (greedy) or more, not {c['temperature']}")
        if float(c["temperature"]) == 0 and int(c["n"]) > 1:
            log(f"note: temperature=0 is greedy decoding, so the {c['n']} samples per problem will be identical")
        self.data = {b: load_benchmark(b, c["catalog"], c.get("limit")) for b in self.benchmarks}
        self.summary: list[dict] = []

    # ---- rows ----
    def _rows_for(self, run: str, ckpt: Checkpoint | None, bench: str, rows: list[dict], samples: list[list[Any]],
                  prompts: list[str], config_hash: str, want: list[list[int]]) -> list[dict]:
        domain = self.data[bench][0]
        items, meta = [], []
        for row, prompt, got, idxs in zip(rows, prompts, samples, want):
            for idx in idxs:
                s = got[idx]
                items.append({"data_source": row["data_source"], "response": s["text"], "ground_truth": row_ground_truth(row), "extra_info": row.get("extra_info")})
                meta.append((row, prompt, idx, s))
        from mdrl.scoring import score_batch

        results = score_batch(items, self.settings, self.cfg.get("workers"))
        out = []
        for (row, prompt, idx, s), res in zip(meta, results):
            details = dict(res["details"])
            if s.get("finish_reason"):
                details["finish_reason"] = s["finish_reason"]
            out.append({
                "run": run, "model": ckpt.path if ckpt else "", "step": ckpt.step if ckpt else int(s.get("step", -1)),
                "benchmark": bench, "domain": domain, "data_source": row["data_source"], "problem_id": row["_problem_id"],
                "sample_idx": idx, "template": self.cfg["template"].get("name"), "prompt_hash": text_hash(prompt) if prompt else "", "prompt": prompt,
                "response": s["text"], "score": float(res["score"]), "correct": bool(details.get("correct")),
                "details": details, "tokens": int(s.get("tokens", -1)), "config_hash": config_hash,
            })
        return out

    def _guard(self, run: str, step: int, bench: str, config_hash: str, settings: dict, df) -> None:
        """Refuse to mix rows of other settings into this run/step/benchmark (or drop them)."""
        same = (df["run"] == run) & (df["step"] == step) & (df["benchmark"] == bench)
        other = df[same & (df["config_hash"] != config_hash)]
        if other.empty:
            return
        old_hash = str(other["config_hash"].iloc[0])
        old = self.table.configs().get(old_hash, {})
        what = ", ".join(changed_settings(old, settings)[:6]) or "unrecorded settings"
        if not self.cfg.get("overwrite"):
            raise UserError(
                f"{self.table.path} already holds {bench} rows of run {run!r} step {step} made with other settings ({what} changed); "
                "pass overwrite=true to replace them, run=NAME to keep both, or another output="
            )
        n = self.table.drop(lambda d: (d["run"] == run) & (d["step"] == step) & (d["benchmark"] == bench) & (d["config_hash"] != config_hash))
        log(f"overwrite=true: dropped {n} {bench} rows of run {run!r} step {step} made with other settings ({what})")

    def _progress(self, total: int, desc: str):
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit="prob", dynamic_ncols=True, disable=not self.cfg.get("progress", True), file=sys.stderr)

    # ---- generation ----
    def run_models(self) -> None:
        c = self.cfg
        model_path = self._model_path()
        ckpts = select_steps(discover(model_path), c.get("steps"))
        run = c.get("run") or (run_name(model_path) if c["model"].get("path") else str(c["model"]["name"]))
        want = c["model"].get("default_template")
        if want and want != c["template"].get("name"):
            log(f"warning: template={c['template'].get('name')} but model {c['model'].get('name')} expects template={want}; mismatched templates cost accuracy")
        backend, why = choose_backend(str(c["backend"]))
        log(f"backend: {backend} ({why}); {len(ckpts)} model state(s): steps {[k.step for k in ckpts]}")
        dec = Decoding(int(c["n"]), float(c["temperature"]), float(c["top_p"]), int(c["max_tokens"]), int(c["seed"]))
        for ckpt in ckpts:
            path = materialise(ckpt)
            ckpt = dataclasses.replace(ckpt, path=path, needs_merge=False)  # merged once, then a plain HF folder
            work = self._pending(run, ckpt)
            if not any(p for _, p, _ in work.values()):
                log(f"step {ckpt.step}: every sample is already in {self.table.path}; nothing to generate")
                self._summarise(run, ckpt.step)
                continue
            gen = make_generator(backend, path, c)
            try:
                for bench, (config_hash, pending, prompts) in work.items():
                    rows_all = self.data[bench][1]
                    bar = self._progress(len(pending), f"{bench} step {ckpt.step}")
                    step_b = int(c["batch_problems"])
                    for s in range(0, len(pending), step_b):
                        batch = pending[s : s + step_b]
                        texts = [prompts[i] for i, _ in batch]
                        samples = gen.generate(texts, dec)
                        as_dicts = [[{"text": x.text, "tokens": x.tokens, "finish_reason": x.finish_reason} for x in per] for per in samples]
                        rows = self._rows_for(run, ckpt, bench, [rows_all[i] for i, _ in batch], as_dicts, texts, config_hash, [w for _, w in batch])
                        self.table.append(rows)  # durable: at most this batch is lost on a crash
                        bar.update(len(batch))
                    bar.close()
            finally:
                gen.close()
            self._summarise(run, ckpt.step)

    def _model_path(self) -> str:
        """model.path when given, else the model group's build settings made into a model here."""
        m = self.cfg["model"]
        if m.get("path"):
            return str(m["path"])
        if "build" not in m:
            raise UserError(f"model {m.get('name')} has neither a path nor build settings (pass model.path=PATH)")
        from mdrl.jobs.tiny_model import ensure_tiny_model

        texts = []
        for bench, (domain, rows) in self.data.items():
            for r in rows:
                texts.append(render(self.cfg["template"], domain, r["extra_info"]["question"]).get("raw_prompt") or r["extra_info"]["question"])
        target = Path(self.cfg.get("tiny_dir") or f"{self.cfg['output']}.{m['name']}")
        return ensure_tiny_model(m, texts, target)

    def _pending(self, run: str, ckpt: Checkpoint) -> dict[str, tuple[str, list[tuple[int, list[int]]], list[str]]]:
        """Per benchmark: (config_hash, [(row index, missing sample indices)], prompt texts)."""
        df = self.table.load(BOOK_COLUMNS)
        tok = load_tokenizer(ckpt.path)
        out = {}
        for bench, (domain, rows) in self.data.items():
            settings = row_settings(self.cfg, ckpt, bench, None)
            config_hash = stable_hash(settings)
            self._guard(run, ckpt.step, bench, config_hash, settings, df)
            self.table.record_config(config_hash, settings)
            df = self.table.load(BOOK_COLUMNS)
            done = self.table.done_keys(df, config_hash, bench)
            n = int(self.cfg["n"])
            pending = []
            for i, r in enumerate(rows):
                missing = [j for j in range(n) if (r["_problem_id"], j) not in done]
                if missing:
                    pending.append((i, missing))
            prompts = [prompt_text(tok, render(self.cfg["template"], domain, r["extra_info"]["question"])) for r in rows]
            if pending and len(pending) < len(rows):
                log(f"{bench} step {ckpt.step}: resuming, {len(rows) - len(pending)} of {len(rows)} problems already done")
            out[bench] = (config_hash, pending, prompts)
        return out

    # ---- generations=FILE ----
    def run_file(self, path: str) -> None:
        """Score a file of finished generations (one JSON record per response) as this eval's results."""
        src = Path(path)
        by_bench = self._read_generations(src)
        sha = hashlib.sha256(src.read_bytes()).hexdigest()[:16]
        run = self.cfg.get("run") or src.stem
        steps_seen: set[int] = set()
        for bench, recs in by_bench.items():
            steps_seen |= self._score_generations(src, run, sha, bench, recs)
        for step in sorted(steps_seen):
            self._summarise(run, step)

    def _read_generations(self, src: Path) -> dict[str, list[dict]]:
        """The file's records by benchmark, each checked for the keys and names it needs."""
        if not src.is_file():
            raise UserError(f"generations file not found: {src}")
        from mdrl.domains.row_io import DataFileError, read_records

        try:
            records = read_records(src)
        except DataFileError as exc:
            raise UserError(str(exc)) from None
        by_bench: dict[str, list[dict]] = defaultdict(list)
        for i, rec in enumerate(records):
            missing = [k for k in ("benchmark", "problem_id", "response") if k not in rec]
            if missing:
                raise UserError(f"generations line {i + 1} lacks {', '.join(missing)} (each needs benchmark, problem_id, response)")
            by_bench[str(rec["benchmark"])].append(rec)
        unknown = sorted(set(by_bench) - set(self.data))
        if unknown:
            raise UserError(f"generations name benchmark(s) {', '.join(unknown)} not in benchmarks={self.benchmarks}")
        for bench, recs in by_bench.items():
            known = {r["_problem_id"] for r in self.data[bench][1]}
            bad = [str(r["problem_id"]) for r in recs if str(r["problem_id"]) not in known]
            if bad:
                raise UserError(f"generations for {bench} name problem_id {bad[0]!r} (and {len(bad) - 1} more) that the benchmark does not have")
        return by_bench

    @staticmethod
    def _group_samples(recs: list[dict]) -> dict[tuple[int, str], list[dict]]:
        """Samples per (step, problem_id); a record without sample_idx takes the next free index."""
        counters: dict[tuple[int, str], int] = defaultdict(int)
        grouped: dict[tuple[int, str], list[dict]] = defaultdict(list)
        for r in recs:
            step, pid = int(r.get("step", -1)), str(r["problem_id"])
            idx = int(r["sample_idx"]) if r.get("sample_idx") is not None else counters[(step, pid)]
            counters[(step, pid)] = idx + 1
            grouped[(step, pid)].append({"text": str(r["response"]), "tokens": int(r.get("tokens", -1) or -1), "step": step, "idx": idx})
        return grouped

    def _score_generations(self, src: Path, run: str, sha: str, bench: str, recs: list[dict]) -> set[int]:
        """Score one benchmark's records (resuming past those already in the table); returns their steps."""
        domain, rows = self.data[bench]
        index = {r["_problem_id"]: r for r in rows}
        settings = row_settings(self.cfg, None, bench, sha)
        config_hash = stable_hash(settings)
        grouped = self._group_samples(recs)
        steps = {s for s, _ in grouped}
        df = self.table.load(BOOK_COLUMNS)
        for step in sorted(steps):
            self._guard(run, step, bench, config_hash, settings, df)
        self.table.record_config(config_hash, settings)
        done = self.table.done_keys(self.table.load(BOOK_COLUMNS), config_hash, bench)
        todo = [(k, v) for k, v in grouped.items() if any((k[1], s["idx"]) not in done for s in v)]
        bar = self._progress(len(todo), f"{bench} (scoring {src.name})")
        step_b = int(self.cfg["batch_problems"])
        for s in range(0, len(todo), step_b):
            chunk = todo[s : s + step_b]
            rows_b = [index[pid] for (_, pid), _ in chunk]
            samples = [{x["idx"]: x for x in ss} for _, ss in chunk]
            want = [[i for i in sorted(by_idx) if (pid, i) not in done] for ((_, pid), _), by_idx in zip(chunk, samples)]
            # the prompt the responses answer is not known; record the template's raw text where there is one
            prompts = [render(self.cfg["template"], domain, r["extra_info"]["question"]).get("raw_prompt") or "" for r in rows_b]
            out = self._rows_for(run, None, bench, rows_b, samples, prompts, config_hash, want)
            for o in out:
                o["model"] = str(src)
            self.table.append(out)
            bar.update(len(chunk))
        bar.close()
        return steps

    # ---- summary ----
    def _summarise(self, run: str, step: int) -> None:
        df = self.table.load(SUMMARY_COLUMNS)
        for bench in self.benchmarks:
            sub = df[(df["run"] == run) & (df["step"] == step) & (df["benchmark"] == bench)]
            if sub.empty:
                continue
            per = sub.groupby("problem_id").agg(n=("sample_idx", "size"), c=("correct", "sum"), s=("score", "mean"))
            fmt = sub["details"].map(lambda d: bool(json.loads(d).get("well_formed")) if d else False).mean()
            line = {
                "run": run, "step": step, "benchmark": bench, "problems": int(len(per)), "samples": int(per["n"].min()),
                "accuracy": float((per["c"] / per["n"]).mean()), "mean_score": float(per["s"].mean()),
                "any_correct": float((per["c"] > 0).mean()), "format_rate": float(fmt), "mean_tokens": float(sub["tokens"].mean()),
            }
            self.summary.append(line)
            print(f"{bench:<11} {run} step {step:>5}  problems {line['problems']:>4}  n {line['samples']:>3}  "
                  f"accuracy {100 * line['accuracy']:6.2f}%  any-correct {100 * line['any_correct']:6.2f}%  "
                  f"format {100 * line['format_rate']:5.1f}%  tokens {line['mean_tokens']:.0f}", flush=True)


def select_steps(ckpts: list[Checkpoint], steps: Any) -> list[Checkpoint]:
    """``steps``: all | last | a list of step numbers."""
    if steps in (None, "all"):
        return ckpts
    if steps == "last":
        return ckpts[-1:]
    wanted = {int(s) for s in (steps if isinstance(steps, (list, tuple)) else str(steps).split(","))}
    chosen = [c for c in ckpts if c.step in wanted]
    if not chosen:
        raise UserError(f"none of steps {sorted(wanted)} is saved (found {[c.step for c in ckpts]})")
    return chosen


def run_name(model: str) -> str:
    """A default run label: the run folder's name (or the model's last path part)."""
    p = Path(model.rstrip("/"))
    return p.name or model


def run(cfg: DictConfig) -> dict:
    """Entry point of ``mdrl eval``."""
    t0 = time.perf_counter()
    ev = Evaluator(cfg)
    try:
        if cfg.get("generations"):
            ev.run_file(str(cfg.generations))
        else:
            ev.run_models()
    finally:
        from mdrl.scoring.executor import shutdown

        shutdown()
    df = ev.table.compact()
    summary = {"output": str(ev.table.path), "rows": int(len(df)), "seconds": round(time.perf_counter() - t0, 2), "benchmarks": ev.summary}
    write_meta(ev.table.path, cfg, summary)
    log(f"{len(df)} rows in {ev.table.path}")
    return summary
