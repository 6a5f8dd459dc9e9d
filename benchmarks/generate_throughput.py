"""Generation throughput of mdrl eval's transformers path (no vLLM): tokens/s at batch 64.

Builds the offline models of conf/model (tiny, and the random Qwen2.5-0.5B-shaped one) with
a tokenizer trained on benchmark prompts, then times ``HFGenerator.generate`` (the code
``mdrl eval backend=hf`` runs) on one batch of R1-templated CountDown prompts, sampled at
temperature 0.6 / top_p 0.95. Uses the GPU when there is one, else the CPU.

    python benchmarks/generate_throughput.py [--models tiny,qwen2.5-0.5b-random] [--batch 64]
        [--new-tokens 128] [--work DIR] [--out FILE.json]

Prints one line per model; writes JSON only to --out (never to a tracked file).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from omegaconf import OmegaConf

from mdrl.cli import compose
from mdrl.jobs.generate import Decoding, HFGenerator
from mdrl.jobs.templates import render
from mdrl.jobs.tiny_model import ensure_tiny_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="tiny,qwen2.5-0.5b-random")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--work", default=None, help="where the built models go (default: a temporary folder)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    work = Path(args.work or tempfile.mkdtemp(prefix="mdrl-gen-"))
    results = []
    for name in args.models.split(","):
        cfg = OmegaConf.to_container(compose("eval", [f"model={name}", "benchmarks=[countdown3]"]), resolve=True)
        rows = __import__("mdrl.jobs.eval", fromlist=["load_benchmark"]).load_benchmark("countdown3", cfg["catalog"], None)[1]
        prompts = [render(cfg["template"], "countdown", r["extra_info"]["question"])["raw_prompt"] for r in rows]
        print(f"[{name}] building the model (offline) ...", flush=True)
        path = ensure_tiny_model(cfg["model"], prompts, work / name)
        batch = (prompts * (args.batch // len(prompts) + 1))[: args.batch]
        gen = HFGenerator(path, batch_size=args.batch)
        dec = Decoding(n=1, temperature=0.6, top_p=0.95, max_tokens=args.new_tokens, seed=0)
        gen.generate(batch[:2], Decoding(n=1, temperature=0.6, top_p=0.95, max_tokens=4))  # warm-up
        if device == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = gen.generate(batch, dec)
        if device == "cuda":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        tokens = sum(s.tokens for per in out for s in per)
        params = sum(p.numel() for p in gen.model.parameters())
        line = {"model": name, "params": params, "device": device, "batch": args.batch, "new_tokens_max": args.new_tokens,
                "generated_tokens": tokens, "seconds": round(dt, 3), "tokens_per_s": round(tokens / dt, 1),
                "torch_threads": torch.get_num_threads()}
        print(json.dumps(line), flush=True)
        results.append(line)
        gen.close()
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
