"""Prompt lengths in tokens, counted as veRL will count them, so ``prepare`` can drop the
prompts veRL's overlong filter would drop *before* it balances the mixture.

veRL 0.9.1 (``RLHFDataset.maybe_filter_out_long_prompts``) keeps a row when
``len(tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True))``
is at most ``data.max_prompt_length``; the authors' fork did the same
(A-Data-Centric-Study ``verl/utils/dataset/rl_dataset.py``). Left to veRL, that filter runs
after mdrl balanced the domains, so long-prompt sources (LPB) end up under-represented.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from mdrl.errors import UserError

BATCH = 512  # prompts tokenized per call (fast tokenizers batch in Rust)


def tokenizer_name(model_cfg: Mapping) -> str | None:
    """Where the run's tokenizer comes from: model.path, as veRL loads it (None: built later)."""
    return model_cfg.get("path") or None


def load_tokenizer(model_cfg: Mapping) -> Any:
    """The run's tokenizer, or None when the model is built during the run (model=tiny)."""
    name = tokenizer_name(model_cfg)
    if not name:
        return None
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(name))
    except Exception as exc:  # noqa: BLE001 - missing files, no network, bad id: one sentence
        raise UserError(
            f"could not load the tokenizer of {name} to count prompt tokens ({type(exc).__name__}); "
            "give model.path a local directory, or set mixture.filter_overlong=false to leave the filter to veRL"
        ) from None


def chat_template_for(template_cfg: Mapping) -> str | None:
    """The chat template veRL will render prompts with: the pass-through one for raw
    templates (what mdrl hands veRL as custom_chat_template), else the tokenizer's own."""
    if template_cfg.get("kind") == "raw":
        from mdrl.jobs.verl_config import PASSTHROUGH_CHAT_TEMPLATE

        return PASSTHROUGH_CHAT_TEMPLATE
    return None


def prompt_lengths(prompts: Sequence[list[dict]], tokenizer: Any, chat_template: str | None = None, desc: str = "prompts") -> list[int]:
    """Token count of each message list under the chat template, generation prompt included."""
    from tqdm import tqdm

    if chat_template is None and not getattr(tokenizer, "chat_template", None):
        raise UserError("the run's tokenizer has no chat template, so prompt lengths cannot be counted as veRL would (use a template with kind raw, or a tokenizer with a chat template)")
    out: list[int] = []
    with tqdm(total=len(prompts), desc=f"counting tokens: {desc}", unit="prompt", leave=False, disable=len(prompts) < BATCH) as bar:
        for start in range(0, len(prompts), BATCH):
            chunk = prompts[start : start + BATCH]
            texts = [tokenizer.apply_chat_template(list(p), add_generation_prompt=True, tokenize=False, chat_template=chat_template) for p in chunk]
            # apply_chat_template(tokenize=True) tokenizes the rendered text without special tokens
            ids = tokenizer(texts, add_special_tokens=False, return_attention_mask=False)["input_ids"]
            out.extend(len(x) for x in ids)
            bar.update(len(chunk))
    return out


def split_by_length(rows: list[dict], lengths: Sequence[int], max_len: int) -> tuple[list[dict], int]:
    """(rows whose prompt fits in ``max_len`` tokens, number dropped)."""
    kept = [r for r, n in zip(rows, lengths) if n <= max_len]
    return kept, len(rows) - len(kept)
