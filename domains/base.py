"""The contract every domain implements, and the registry that routes data_source to it.

A domain owns everything about its data: its verifier (``verify``), its loaders (released
parquet, local JSONL/parquet, Hugging Face id), where it has one a procedural generator with
its difficulty knob, the difficulty of a row, the gold answer of a row and the wording the
prompt templates use (see :class:`Domain`; the contract is written out in
:mod:`mdrl.domains`).
Answer extraction (the last ``<answer>`` block) and reward schemes live outside the
domain, in :mod:`mdrl.scoring`, so every domain is scored by the same rules.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, Mapping

from mdrl.registry import Registry, RegistryError

# Canonical veRL row layout written by loaders and generators:
#   {"data_source": str, "prompt": [{"role": "user", "content": str}], "ability": str,
#    "reward_model": {"style": "rule", "ground_truth": <domain format>},
#    "extra_info": {"question": <raw problem text, no template>, "split": str, "index": int, ...}}
Row = dict


@dataclasses.dataclass
class Verdict:
    """Outcome of checking one extracted answer against its ground truth.

    ``fraction`` is partial credit in [0, 1] (what the proportional scheme pays);
    ``correct`` is the all-or-nothing outcome (what the binary scheme pays).
    ``details`` carries anything a researcher wants to see per item (parsed answer, reason).
    """

    fraction: float
    correct: bool
    details: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def wrong(cls, reason: str, **details: Any) -> "Verdict":
        return cls(0.0, False, {"reason": reason, **details})

    @classmethod
    def right(cls, **details: Any) -> "Verdict":
        return cls(1.0, True, {"reason": "correct", **details})


LANGUAGES = ("en", "zh-simplified", "zh-traditional")
"""Keys of :attr:`Domain.wording`: English, and Chinese in either script (``language=zh``)."""


@dataclasses.dataclass(frozen=True)
class Wording:
    """How the prompt templates name a domain's task in one language.

    ``task`` fills ``{task}`` ("Now the user asks you to solve {task}."), ``instruction``
    fills ``{instruction}`` (the "clearly state ... within <answer> </answer> tags." sentence).
    ``variants`` are other instructions a template may ask for by name
    (``template.instruction_variants.<domain>=<variant>``), e.g. math's ``identity_slip``,
    the copy-paste slip of the released math prompts.
    """

    task: str
    instruction: str
    variants: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Knob:
    """The generator keyword that sets a generated row's difficulty, and its valid range.

    ``generate(**{knob.name: level})`` gives rows whose ``difficulty(row) == level``, so a
    curriculum can generate rows at a chosen level (reasoning-gym's curricula do the same).
    """

    name: str
    low: int
    high: int


@dataclasses.dataclass(frozen=True)
class Chinese:
    """What a domain offers for ``language=zh`` beyond its Chinese wording (docs/language.md).

    ``tell(row, script)``: a released row told in Chinese (rows that keep their structure,
    e.g. KK statements, CountDown numbers); None where the domain's files are English prose.
    ``generator``: ``generate(language="zh")`` works; ``generator_script``: it also takes
    ``script=`` (else its Chinese is simplified only).
    """

    tell: Callable[[Row, str], Row] | None = None
    generator: bool = False
    generator_script: bool = False


def _not_given(row: Row) -> str | None:  # sentinel: gold left out (register() refuses it)
    raise NotImplementedError


@dataclasses.dataclass(frozen=True, kw_only=True)
class Domain:
    """One verifier domain behind the registry: everything mdrl knows about it.

    Required (:func:`register` refuses a domain without them):

    - ``verify(answer, ground_truth, extra_info) -> Verdict``: a pure function of its inputs;
      it may be slow or hang (sympy, model code): the batch executor bounds it with
      ``timeout_s`` of wall clock in a killable worker process.
    - ``wording``: :class:`Wording` per language key of :data:`LANGUAGES`; ``"en"`` at least.
    - ``difficulty(row) -> float``: higher is harder; 0 where the row records nothing usable.
    - ``gold(row) -> str | None``: the gold answer text (what goes inside ``<answer>``) of a
      row, used for the warm-up SFT of the local backend; None for a row without one. Pass
      ``gold=None`` explicitly for a domain that has no gold answers at all (no warm-up rows).

    Optional: ``loaders`` (name -> ``loader(path | None, split) -> rows``), ``generate``
    (``generate(n=, seed=, split=, **settings) -> rows``), its difficulty ``knob``, and
    ``chinese``: how its data turns Chinese under ``language=zh`` (:class:`Chinese`).
    """

    name: str
    data_sources: tuple[str, ...] = ()
    verify: Callable[[str, Any, Mapping | None], Verdict] | None = None
    wording: Mapping[str, Wording] = dataclasses.field(default_factory=dict)
    difficulty: Callable[[Row], float] | None = None
    gold: Callable[[Row], str | None] | None = _not_given
    timeout_s: float = 10.0
    loaders: Mapping[str, Callable[..., list[Row]]] = dataclasses.field(default_factory=dict)
    generate: Callable[..., list[Row]] | None = None
    knob: Knob | None = None
    chinese: Chinese = Chinese()

    def words(self, language: str = "en") -> Wording:
        """The wording in ``language`` (a key of :data:`LANGUAGES`), English where it has none."""
        return self.wording.get(language) or self.wording["en"]


_DOMAINS: Registry[Domain] = Registry("domain")
_BY_SOURCE: dict[str, str] = {}


def contract_problem(domain: Domain) -> str | None:
    """Why ``domain`` breaks the contract (one sentence), or None when it keeps it."""
    name = domain.name
    if not callable(domain.verify):
        return f"domain {name!r} has no verify function"
    en = domain.wording.get("en")
    if not isinstance(en, Wording) or not en.task.strip() or not en.instruction.strip():
        return f"domain {name!r} has no English wording (wording={{'en': Wording(task=..., instruction=...)}})"
    odd = sorted(set(domain.wording) - set(LANGUAGES))
    if odd:
        return f"domain {name!r} has wording in unknown languages {odd} (known: {', '.join(LANGUAGES)})"
    if not callable(domain.difficulty):
        return f"domain {name!r} has no difficulty(row) function"
    if domain.gold is _not_given:
        return f"domain {name!r} does not say its gold answer: pass gold=<function> or gold=None (no warm-up rows)"
    if domain.gold is not None and not callable(domain.gold):
        return f"domain {name!r} has a gold that is neither a function nor None"
    if (domain.knob is not None or domain.chinese.generator) and domain.generate is None:
        return f"domain {name!r} has a difficulty knob or a Chinese generator but no generator"
    return None


def register(domain: Domain) -> Domain:
    """Add a domain; its name and every data_source alias route to it (case-insensitive).

    Raises ValueError (one sentence) when the domain breaks the contract of :class:`Domain`
    and :class:`~mdrl.registry.RegistryError` when its name or a data_source is taken.
    """
    problem = contract_problem(domain)
    if problem:
        raise ValueError(problem)
    keys = [src.lower() for src in (domain.name, *domain.data_sources)]
    for src, key in zip((domain.name, *domain.data_sources), keys):
        if key in _BY_SOURCE and _BY_SOURCE[key] != domain.name:
            raise RegistryError(f"data_source {src!r} claimed by {_BY_SOURCE[key]!r} and {domain.name!r}")
    _DOMAINS.add(domain.name, domain)
    _BY_SOURCE.update({key: domain.name for key in keys})
    return domain


def unregister(name: str) -> None:
    """Take domain ``name`` and its data_sources out of the registry (for tests' throw-away domains)."""
    _DOMAINS.remove(name)
    for key in [k for k, v in _BY_SOURCE.items() if v == name]:
        del _BY_SOURCE[key]


def get_domain(name: str) -> Domain:
    """The domain registered under ``name`` (a domain name, not a data_source).

    An unknown name raises :class:`~mdrl.registry.RegistryError` (a KeyError) listing the known ones.
    """
    return _DOMAINS.get(name)


def domain_for_source(data_source: str) -> Domain | None:
    """The domain that scores ``data_source``, or None when nothing claims it."""
    if not isinstance(data_source, str):
        return None
    name = _BY_SOURCE.get(data_source.strip().lower())
    return _DOMAINS.get(name) if name else None


def all_domains() -> Iterable[Domain]:
    """Every registered domain, in registration order."""
    return _DOMAINS.values()


def known_sources() -> list[str]:
    """Every data_source name (and domain name) the registry routes, sorted."""
    return sorted(_BY_SOURCE)
