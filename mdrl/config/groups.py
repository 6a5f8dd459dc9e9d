"""Checks of the groups whose files other parts of mdrl own the contents of.

Template wording, protocol sources and language files are written by hand per option
and read by their own modules (mdrl.jobs.templates, mdrl.jobs.language); their keys
differ per option, so these schemas are not merged into the configs, only checked
against them after composition (:func:`mdrl.config.validate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional

from omegaconf import MISSING

from mdrl.config.checks import setting

# how mdrl.jobs.templates turns a question into a prompt
TEMPLATE_KINDS = ("raw", "chat", "released", "none")


@dataclass
class TemplateChecks:
    """``template``: kind raw (text tokenized as is) | chat (system + user turns through the
    tokenizer's chat template) | released (the authors' own messages) | none (bare question)."""

    name: str = MISSING
    kind: str = setting(MISSING, choices=TEMPLATE_KINDS)


@dataclass
class ProtocolChecks:
    """``protocol``: a decoding preset of ``mdrl eval``; shots per benchmark (>= 0)."""

    name: str = MISSING
    shots: Optional[Dict[str, int]] = None

    @classmethod
    def check_node(cls, node, prefix: str) -> None:
        from mdrl.errors import UserError

        for bench, n in (node.get("shots") or {}).items():
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise UserError(f"{prefix}.shots.{bench} must be a whole number >= 0, not {n!r}")


@dataclass
class LanguageChecks:
    """``language``: en | zh; script simplified | traditional; apply_to a list of train, val."""

    name: str = setting(MISSING, choices=("en", "zh"))
    script: str = setting("simplified", choices=("simplified", "traditional"))
    apply_to: List[str] = setting(["train"], choices=("train", "val"), each=True)
