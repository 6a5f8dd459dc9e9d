"""Prompt templates: how a domain's bare question becomes the prompt a model sees.

The template is chosen in ``conf/template/*.yaml``; this module only renders. ``chat``
templates produce a message list for the tokenizer's chat template (instruct models);
raw templates produce one string that must reach the model unwrapped (base models);
``released`` reproduces the authors' prompt messages (kept from the released files, or
built with their wording), which the model's own chat template then wraps.
"""

from __future__ import annotations

from typing import Any, Mapping


def domain_instruction(cfg: Mapping, domain: str) -> str:
    """The "state the answer ..." sentence for ``domain`` under this template config."""
    instr = dict(cfg.get("answer_instruction") or {})
    if domain == "math" and cfg.get("math_identity_slip"):
        # The released math prompts carry a copy-paste slip from the KK prompt; reachable
        # for faithful reproduction, off by default.
        return instr.get("kk_slip", "clearly state the identity of each character within <answer> </answer> tags.")
    return instr.get(domain) or instr.get("default", "")


def released_messages(cfg: Mapping, domain: str, question: str) -> list[dict[str, str]]:
    """The authors' prompt messages for ``question``, built from ``cfg.messages.<domain>``."""
    wording = (cfg.get("messages") or {}).get(domain)
    if not wording:
        raise ValueError(f"template {cfg.get('name')!r} has no released wording for domain {domain!r}")
    # str.replace, not str.format: the wording is fixed text with one slot, and questions
    # (LaTeX, JSON skeletons) are full of braces
    return [{"role": str(m["role"]), "content": str(m["content"]).replace("{question}", question)} for m in wording]


def render(cfg: Mapping, domain: str, question: str, own_prompt: list[dict] | None = None) -> dict[str, Any]:
    """The prompt for one question: {"prompt": [messages], "raw_prompt": str | None}.

    ``raw_prompt`` is set for raw (non-chat) templates: the exact text to tokenize.
    ``own_prompt``: the row's prompt as read from a released file; the ``released``
    template keeps it unchanged (byte-identical to what the authors trained on).
    """
    kind = cfg.get("kind", "raw")
    if kind == "released":
        if own_prompt:
            return {"prompt": [{"role": str(m["role"]), "content": str(m["content"])} for m in own_prompt], "raw_prompt": None}
        return {"prompt": released_messages(cfg, domain, question), "raw_prompt": None}
    task = (cfg.get("task_phrases") or {}).get(domain, "a problem")
    fields = {"task": task, "instruction": domain_instruction(cfg, domain), "question": question.strip()}
    if kind == "none":
        return {"prompt": [{"role": "user", "content": fields["question"]}], "raw_prompt": fields["question"]}
    if kind == "raw":
        text = str(cfg["text"]).format(**fields)
        return {"prompt": [{"role": "user", "content": text}], "raw_prompt": text}
    if kind == "chat":
        messages = []
        if cfg.get("system"):
            messages.append({"role": "system", "content": str(cfg["system"]).format(**fields)})
        messages.append({"role": "user", "content": str(cfg.get("user", "{question}")).format(**fields)})
        return {"prompt": messages, "raw_prompt": None}
    raise ValueError(f"template kind must be raw, chat, released or none, not {kind!r}")
