"""Perplexity of responses under a model (arXiv 2504.13837: were RL's answers already likely
under the base model?).

For each (prompt, response) pair the model scores log p(response | prompt) token by token;
perplexity is exp of the mean negative log-likelihood over the response tokens. Batched with
transformers: prompts and responses are tokenized separately (so the response's tokens are
exactly the ones scored), right-padded, and the prompt and padding positions are masked.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def load(model_path: str, device: str | None = None, dtype: str = "auto"):
    """(model, tokenizer) for scoring, in eval mode."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if dtype == "auto":
        dtype = "bfloat16" if device.startswith("cuda") else "float32"
    tok = AutoTokenizer.from_pretrained(model_path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=getattr(torch, dtype)).to(device).eval()
    return model, tok


def response_nll(model, tokenizer, prompts: Sequence[str], responses: Sequence[str], batch_size: int = 8,
                 max_tokens: int | None = None, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(sum of response-token NLLs, response token counts) per pair, in nats."""
    import torch

    if len(prompts) != len(responses):
        raise ValueError("one prompt per response")
    device = next(model.parameters()).device
    total = np.zeros(len(prompts))
    count = np.zeros(len(prompts), dtype=np.int64)
    order = np.argsort([len(p) + len(r) for p, r in zip(prompts, responses)])  # similar lengths share a batch
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if progress:
        from tqdm import tqdm

        batches = tqdm(batches, desc="perplexity", unit="batch", dynamic_ncols=True)
    pad = tokenizer.pad_token_id
    for idx in batches:
        seqs, starts = [], []
        for i in idx:
            p = tokenizer(prompts[i], add_special_tokens=False)["input_ids"]
            r = tokenizer(responses[i], add_special_tokens=False)["input_ids"]
            if max_tokens:
                r = r[:max_tokens]
            seqs.append(p + r)
            starts.append(len(p))
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), pad, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for j, s in enumerate(seqs):
            ids[j, : len(s)] = torch.tensor(s, dtype=torch.long)
            mask[j, : len(s)] = 1
        with torch.inference_mode():
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1)
        target = ids[:, 1:].to(device)
        tok_lp = logp.gather(-1, target.unsqueeze(-1)).squeeze(-1).cpu()
        for j, s in enumerate(seqs):
            # position t predicts token t+1: response tokens are positions start..len-1
            lo, hi = max(starts[j], 1) - 1, len(s) - 1
            total[idx[j]] = float(-tok_lp[j, lo:hi].sum())
            count[idx[j]] = hi - lo
    return total, count


def perplexity(total_nll: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """exp(mean NLL per token); NaN for empty responses."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, np.exp(total_nll / np.maximum(counts, 1)), math.nan)


def perplexity_table(results, model_path: str, max_samples: int = 200, batch_size: int = 8, seed: int = 0,
                     max_tokens: int | None = None, progress: bool = False):
    """Per (system, benchmark, correct): mean perplexity of up to ``max_samples`` responses under ``model_path``.

    ``results`` is a per-sample results frame with prompt and response columns.
    """
    import pandas as pd

    if "prompt" not in results.columns:
        raise ValueError("the results table has no prompt column (written by mdrl eval since this version)")
    # a seeded shuffle, then the first max_samples of each model and benchmark
    sample = results.sample(frac=1.0, random_state=seed).groupby(["system", "benchmark"]).head(int(max_samples))
    model, tok = load(model_path)
    nll, n = response_nll(model, tok, sample["prompt"].fillna("").tolist(), sample["response"].fillna("").tolist(),
                          batch_size=batch_size, max_tokens=max_tokens, progress=progress)
    sample = sample.assign(nll=nll, tokens_scored=n, perplexity=perplexity(nll, n))
    out = sample.groupby(["system", "benchmark", "correct"]).agg(
        responses=("perplexity", "size"), mean_perplexity=("perplexity", "mean"), median_perplexity=("perplexity", "median"),
        mean_nll_per_token=("nll", "sum"), tokens=("tokens_scored", "sum")).reset_index()
    out["mean_nll_per_token"] = out["mean_nll_per_token"] / out["tokens"].clip(lower=1)
    out.insert(0, "scored_by", model_path)
    return pd.DataFrame(out)
