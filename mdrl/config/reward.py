"""``conf/reward``: how a verdict becomes a reward, and the limits items are scored under.

The defaults here are the only ones: ``conf/reward/<scheme>.yaml`` extends
:class:`RewardConfig` and sets only its ``scheme``, and the scoring code
(:mod:`mdrl.scoring.core`, :mod:`mdrl.scoring.schemes`) reads its fallbacks from these
classes, so a setting's default cannot differ between ``mdrl score``, the veRL hook and
TRL's reward function.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from mdrl.config.checks import setting


def scheme_names() -> list[str]:
    """Every registered reward scheme (plugins may add some), imported when first asked."""
    from mdrl.scoring.schemes import scheme_names as names

    return names()


# What the answer part of the 'format' scheme may pay: a scheme that pays the answer alone.
ANSWER_SCHEMES = ("binary", "proportional")


@dataclass
class FormatSettings:
    """The 'format' scheme's terms.

    bonus: added when the response is exactly ``<think>...</think><answer>...</answer>``.
    penalty: added otherwise (only the 'format' scheme uses bonus and penalty).
    answer_scheme: what the answer part pays under 'format': binary or proportional.
    require_think_open: demand the opening ``<think>`` (R1 prompts end with it, so off).
    """

    bonus: float = 0.1
    penalty: float = -0.1
    answer_scheme: str = setting("binary", choices=ANSWER_SCHEMES)
    require_think_open: bool = False


@dataclass
class CodeSettings:
    """Sandbox limits per program of the code domain (docs/sandbox.md).

    timeout_s: wall-clock budget of one program, seconds (0 < t <= 600).
    memory_mb: address-space limit of one program, MB (64 .. 65536).
    backend: local (mdrl's sandbox) | sandbox_fusion (a SandboxFusion server at sandbox_url).
    sandbox_url: the SandboxFusion endpoint; null = $SANDBOX_FUSION_ENDPOINT.
    isolation: sandbox mode: auto | userns | no_namespaces | basic (the last two force a
        weaker host's mode, e.g. to test it).
    min_isolation: weakest isolation level scored: namespaces | uid | basic; below it every
        code item scores 0 with the reason.
    """

    timeout_s: float = setting(10.0, gt=0, le=600)
    memory_mb: int = setting(2048, ge=64, le=65536)
    backend: str = setting("local", choices=("local", "sandbox_fusion"))
    sandbox_url: Optional[str] = None
    isolation: str = setting("auto", choices=("auto", "userns", "no_namespaces", "basic"))
    min_isolation: str = setting("namespaces", choices=("namespaces", "uid", "basic"))


@dataclass
class DomainSettings:
    """Options handed to a domain's verifier as keyword arguments (only code takes any)."""

    code: CodeSettings = field(default_factory=CodeSettings)


@dataclass
class RewardConfig:
    """``reward``: the scheme and the settings a scoring call reads.

    scheme: the function in mdrl/scoring/schemes.py that turns a verdict into a number:
        binary | proportional | format | paper (and any a plugin registers).
    format: the 'format' scheme's bonus, penalty and answer part (:class:`FormatSettings`).
    item_timeout_s: hard wall-clock limit per item, seconds (> 0); null = the domain's own
        (code 15 s, math 10 s).
    domains: per-domain verifier options (:class:`DomainSettings`).
    """

    scheme: str = setting("binary", choices=scheme_names)
    format: FormatSettings = field(default_factory=FormatSettings)
    item_timeout_s: Optional[float] = setting(None, gt=0)
    domains: DomainSettings = field(default_factory=DomainSettings)


# The reward settings a scoring call reads: every field of the schema.
SETTING_KEYS = tuple(f.name for f in dataclasses.fields(RewardConfig))

FORMAT_DEFAULTS = FormatSettings()


def default_settings() -> Dict[str, Any]:
    """The reward settings of ``reward=binary`` as plain containers (a fresh copy)."""
    return dataclasses.asdict(RewardConfig())


def check_settings(settings: Any, prefix: str = "reward") -> None:
    """Refuse reward settings the schema does not allow, in one sentence (UserError)."""
    from mdrl.config.checks import check

    check(settings, RewardConfig, prefix)
