"""Build a small randomly initialised Qwen2 model and a BPE tokenizer, offline.

The CPU default and CI cannot download weights, so ``model=tiny`` is made here: a
byte-level BPE tokenizer trained on the run's own prompts and answers (so every character
a verifier needs is encodable) and a Qwen2ForCausalLM with random weights of the shape
given in ``conf/model/tiny.yaml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
TAGS = ["<think>", "</think>", "<answer>", "</answer>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tokenizer(texts: Iterable[str], vocab_size: int, out_dir: Path):
    """Train a byte-level BPE on ``texts`` and save it as a transformers fast tokenizer."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    # Word-level byte BPE like Qwen2's: transformers loads a qwen2-typed model's tokenizer
    # as Qwen2Tokenizer, which imposes its own word-splitting pre-tokenizer, so merges
    # across words would never apply. Digits stay single tokens for arithmetic.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        max_token_length=48,
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    # The tags are ordinary text (they must survive decoding with skip_special_tokens).
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in TAGS])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>", bos_token=None, unk_token=None
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out_dir)
    return fast


def build_model(build: Mapping, tokenizer, out_dir: Path):
    """A Qwen2ForCausalLM with random weights shaped by ``build``, saved to ``out_dir``."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(int(build.get("seed", 0)))
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=int(build["hidden_size"]),
        intermediate_size=int(build["intermediate_size"]),
        num_hidden_layers=int(build["num_hidden_layers"]),
        num_attention_heads=int(build["num_attention_heads"]),
        num_key_value_heads=int(build["num_key_value_heads"]),
        max_position_embeddings=int(build["max_position_embeddings"]),
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.eos_token_id,
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out_dir)
    return model


def ensure_tiny_model(model_cfg: Mapping, texts: Iterable[str], out_dir: Path) -> str:
    """Path of the tiny model: ``model.path`` if given, else built (once) into ``out_dir``."""
    if model_cfg.get("path"):
        return str(model_cfg["path"])
    if (out_dir / "config.json").is_file() and (out_dir / "tokenizer.json").is_file():
        return str(out_dir)  # resumed run: reuse the model built before
    out_dir.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(texts, int(model_cfg["build"]["vocab_size"]), out_dir)
    build_model(model_cfg["build"], tok, out_dir)
    return str(out_dir)
