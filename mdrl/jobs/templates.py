"""Prompt templates: how a domain's bare question becomes the prompt a model sees.

The template is chosen in ``conf/template/*.yaml``; this module only renders. The words
that name the task ("{task}") and ask for the answer ("{instruction}") are the domain's own
(``Domain.wording``, in the template's language). ``chat`` templates produce a message list
for the tokenizer's chat template (instruct models); raw templates produce one string that
must reach the model unwrapped (base models); ``released`` reproduces the authors' prompt
messages (kept from the released files, or built with their wording), which the model's own
chat template then wraps.
"""

from __future__ import annotations

from typing import Any, Mapping

from mdrl.domains import get_domain
from mdrl.errors import UserError


def wording_language(cfg: Mapping) -> str:
    """The key of ``Domain.wording`` this template speaks: "en", "zh-simplified" or "zh-traditional"."""
    if cfg.get("language") == "zh":
        return f"zh-{cfg.get('script', 'simplified')}"
    return "en"


def domain_wording(cfg: Mapping, domain: str) -> tuple[str, str]:
    """(task phrase, answer instruction) of ``domain`` under this template config.

    ``cfg.instruction_variants.<domain>`` picks another instruction the domain offers
    (``Wording.variants``), e.g. math's ``identity_slip`` of the released prompts.
    """
    words = get_domain(domain).words(wording_language(cfg))
    variant = (cfg.get("instruction_variants") or {}).get(domain)
    if not variant:
        return words.task, words.instruction
    if variant not in words.variants:
        known = ", ".join(sorted(words.variants)) or "none"
        raise UserError(f"template.instruction_variants.{domain}={variant!r} is not a {domain} instruction variant (known: {known})")
    return words.task, words.variants[variant]


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
    template keeps it unchanged (byte-identical to what the authors trained on). A domain
    the authors had no prompt for gets, under ``released``, the R1 layout (the template's
    ``text``) filled with its own wording, as one user message like their math prompts.
    """
    kind = cfg.get("kind", "raw")
    if kind == "released":
        if own_prompt:
            return {"prompt": [{"role": str(m["role"]), "content": str(m["content"])} for m in own_prompt], "raw_prompt": None}
        if (cfg.get("messages") or {}).get(domain):
            return {"prompt": released_messages(cfg, domain, question), "raw_prompt": None}
    task, instruction = domain_wording(cfg, domain)
    fields = {"task": task, "instruction": instruction, "question": question.strip()}
    if kind == "none":
        return {"prompt": [{"role": "user", "content": fields["question"]}], "raw_prompt": fields["question"]}
    if kind in ("raw", "released"):
        text = str(cfg["text"]).format(**fields)
        return {"prompt": [{"role": "user", "content": text}], "raw_prompt": text if kind == "raw" else None}
    if kind == "chat":
        messages = []
        if cfg.get("system"):
            messages.append({"role": "system", "content": str(cfg["system"]).format(**fields)})
        messages.append({"role": "user", "content": str(cfg.get("user", "{question}")).format(**fields)})
        return {"prompt": messages, "raw_prompt": None}
    raise ValueError(f"template kind must be raw, chat, released or none, not {kind!r}")
