"""Constraints declared beside a schema field, and the one check that reads them.

OmegaConf enforces a field's type while Hydra composes (``workers=abc`` into an int fails
there), but not a value's range or its set of allowed words, and it never runs a
dataclass's ``__post_init__``. So a field says what it allows in its metadata
(:func:`setting`), and :func:`check` walks a composed node against its dataclass and
raises :class:`~mdrl.errors.UserError` with one sentence naming the key, the bad value and
what is allowed. The same check serves group schemas that Hydra merges (reward,
algorithm, ...) and the top-level keys of each command, which stay in their YAML.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any, Callable, Iterable, Mapping, Sequence, Union

from mdrl.errors import UserError

Choices = Union[Sequence[str], Callable[[], Iterable[str]]]
_BOUNDS = ("ge", "gt", "le", "lt")


def setting(
    default: Any = dataclasses.MISSING,
    *,
    choices: Choices | None = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    each: bool = False,
    items: type | None = None,
) -> Any:
    """A dataclass field whose value must be one of ``choices`` or a number in range.

    ``ge``/``gt``/``le``/``lt`` bound a number; with ``choices`` too, the value may be either a
    listed word (``auto``) or a number in range. ``each`` applies the rule to every item of
    a list; ``items`` names the dataclass each value of a dict must satisfy (checked, not
    merged: OmegaConf cannot assign a plain dict into a dict of dataclasses, and jobs
    rewrite such dicts). ``choices`` may be a function, for sets that grow by registration (reward
    schemes, curricula). List and dict defaults are copied per instance.
    """
    meta = {"choices": choices, "ge": ge, "gt": gt, "le": le, "lt": lt, "each": each, "items": items}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _allowed_words(choices: Choices | None) -> list[str] | None:
    if choices is None:
        return None
    return sorted(choices()) if callable(choices) else list(choices)


def _range_text(meta: Mapping, whole: bool) -> str:
    kind = "a whole number" if whole else "a number"
    parts = []
    if meta.get("gt") is not None:
        parts.append(f"> {meta['gt']:g}")
    if meta.get("ge") is not None:
        parts.append(f">= {meta['ge']:g}")
    if meta.get("le") is not None:
        parts.append(f"<= {meta['le']:g}")
    if meta.get("lt") is not None:
        parts.append(f"< {meta['lt']:g}")
    return f"{kind} {' and '.join(parts)}".strip() if parts else kind


def _in_range(value: Any, meta: Mapping, whole: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if whole and not isinstance(value, int):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    if meta.get("gt") is not None and not value > meta["gt"]:
        return False
    if meta.get("ge") is not None and not value >= meta["ge"]:
        return False
    if meta.get("lt") is not None and not value < meta["lt"]:
        return False
    return not (meta.get("le") is not None and not value <= meta["le"])


def _base_type(tp: Any) -> tuple[Any, bool]:
    """(the type without Optional, whether None is allowed)."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) is Union and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else Any), True
    return tp, False


def _show(value: Any) -> str:
    """A value as the user typed it: OmegaConf turns ``-1`` into ``-1.0`` in a float field."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _allowed(meta: Mapping, tp: Any) -> str:
    """What a field allows, as the end of "must be ...": "one of a, b", "a number > 0 or null"."""
    base, nullable = _base_type(tp)
    words = _allowed_words(meta.get("choices"))
    ranged = any(meta.get(k) is not None for k in _BOUNDS)
    whole = base is int
    parts = []
    if words is not None:
        parts.append(f"one of {', '.join(words)}" if len(words) > 1 else words[0])
    if ranged or (base in (int, float) and words is None):
        parts.append(_range_text(meta, whole))
    if base is bool:
        parts.append("true or false")
    text = " or ".join(parts) or "a valid value"
    return f"{text} or null" if nullable else text


def _list_of(meta: Mapping, item_tp: Any) -> str:
    """What a list field allows: "a list of whole numbers >= 1"."""
    text = _allowed(meta, item_tp).replace("a whole number", "whole numbers").replace("a number", "numbers")
    return f"a list of {text}"


def field_rule(schema: type, name: str) -> str | None:
    """What field ``name`` of ``schema`` allows (for messages about values OmegaConf refused)."""
    if not dataclasses.is_dataclass(schema):
        return None
    for f in dataclasses.fields(schema):
        if f.name == name:
            tp = typing.get_type_hints(schema)[name]
            if f.metadata.get("each"):
                tp = (typing.get_args(_base_type(tp)[0]) or (Any,))[0]
                return _list_of(f.metadata, tp)
            return _allowed(f.metadata, tp)
    return None


def _check_value(key: str, value: Any, meta: Mapping, tp: Any) -> None:
    base, nullable = _base_type(tp)
    if value is None:
        if nullable:
            return
        raise UserError(f"{key} must not be null")
    words = _allowed_words(meta.get("choices"))
    ranged = any(meta.get(k) is not None for k in _BOUNDS)
    whole = base is int
    if base is bool:
        ok = isinstance(value, bool)
    elif words is not None and isinstance(value, str) and value in words:
        ok = True
    elif ranged or (base in (int, float) and words is None):
        ok = _in_range(value, meta, whole)
    else:
        ok = words is None
    if not ok:
        raise UserError(f"{key} must be {_allowed(meta, tp)}, not {_show(value)}")


def _get(node: Any, name: str) -> tuple[bool, Any]:
    """(present, value) of ``node[name]``; an interpolation that cannot resolve yet counts as absent."""
    from omegaconf import DictConfig
    from omegaconf.errors import InterpolationResolutionError, MissingMandatoryValue

    if isinstance(node, DictConfig):
        if name not in node.keys():
            return False, None
        try:
            return True, node[name]
        except (InterpolationResolutionError, MissingMandatoryValue, ValueError):
            return False, None
    if isinstance(node, Mapping):
        return (name in node), node.get(name)
    return False, None


def check(node: Any, schema: type, prefix: str) -> None:
    """Refuse the first value of ``node`` that ``schema``'s field constraints do not allow.

    Keys ``node`` lacks are skipped (a check-only schema may name keys a config leaves
    out); a nested dataclass, or a dict of them, is checked in turn; after its fields, a
    schema's ``check_node(node, prefix)`` classmethod, if any, checks across fields.
    """
    hints = typing.get_type_hints(schema)
    for f in dataclasses.fields(schema):
        present, value = _get(node, f.name)
        if not present:
            continue
        key = f"{prefix}.{f.name}" if prefix else f.name
        tp = hints[f.name]
        base, _ = _base_type(tp)
        if dataclasses.is_dataclass(base):
            if value is not None:
                check(value, base, key)
            continue
        if typing.get_origin(base) is dict and dataclasses.is_dataclass(typing.get_args(base)[1]):
            for name, item in (value or {}).items():
                check(item, typing.get_args(base)[1], f"{key}.{name}")
            continue
        meta = f.metadata
        if meta.get("items") is not None:
            if value is not None and not isinstance(value, Mapping):
                raise UserError(f"{key} must be a mapping of name to settings, not {_show(value)}")
            for name, item in (value or {}).items():
                check(item or {}, meta["items"], f"{key}.{name}")
            continue
        if meta.get("each"):
            item_tp = (typing.get_args(base) or (Any,))[0]
            if value is not None and (isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence)):
                raise UserError(f"{key} must be {_list_of(meta, item_tp)}, not {_show(value)}")
            for i, item in enumerate(value or []):
                _check_value(f"{key}[{i}]", item, meta, item_tp)
        else:
            _check_value(key, value, meta, tp)
    extra = getattr(schema, "check_node", None)
    if extra is not None:
        extra(node, prefix)
