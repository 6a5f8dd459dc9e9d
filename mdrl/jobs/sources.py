"""Turning catalog entries (conf/catalog) into rows: loaders over local files, or generators."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from mdrl.errors import UserError
from mdrl.domains import get_domain
from mdrl.domains.io import DataFileError


def resolve_path(data_root: str, name: str) -> Path:
    """``name`` under ``data_root`` unless it is absolute."""
    p = Path(name).expanduser()
    return p if p.is_absolute() else Path(data_root).expanduser() / p


def resolve_entry(entry: Mapping, data_root: str, label: str) -> Mapping:
    """The concrete form of a catalog entry: ``{candidates: [...]}`` becomes the first
    candidate whose files all exist under ``data_root``; other entries come back as they are."""
    candidates = entry.get("candidates")
    if candidates is None:
        return entry
    for cand in candidates:
        if all(resolve_path(data_root, str(f)).is_file() for f in cand.get("files") or []):
            return cand
    tried = "; ".join(", ".join(str(resolve_path(data_root, str(f))) for f in c.get("files") or []) for c in candidates)
    raise UserError(f"{label}: none of its data files were found (tried: {tried}); set MDRL_DATA or catalog.data_root")


def load_entry(entry: Mapping, domain_name: str, data_root: str, split: str, label: str) -> list[dict]:
    """Rows of one catalog entry ({loader, files}, {generate} or {candidates}) for ``split``."""
    entry = resolve_entry(entry, data_root, label)
    try:
        domain = get_domain(domain_name)
    except KeyError as exc:
        raise UserError(f"{label}: {exc.args[0]}") from None
    if entry.get("generate") is not None:
        if domain.generate is None:
            raise UserError(f"{label}: domain {domain_name!r} has no generator")
        kwargs: dict[str, Any] = dict(entry["generate"])
        kwargs.setdefault("split", split)
        try:
            return domain.generate(**kwargs)
        except TypeError as exc:
            raise UserError(f"{label}: bad generator settings for {domain_name!r}: {exc}") from None
    loader_name = entry.get("loader")
    if loader_name not in domain.loaders:
        raise UserError(f"{label}: domain {domain_name!r} has no loader {loader_name!r} (known: {', '.join(domain.loaders)})")
    loader = domain.loaders[loader_name]
    files = list(entry.get("files") or [])
    try:
        if not files:
            return loader(None, split)
        rows: list[dict] = []
        for f in files:
            path = resolve_path(data_root, str(f))
            if not path.is_file():
                raise UserError(f"{label}: data file not found: {path} (set MDRL_DATA or catalog.data_root)")
            rows.extend(loader(str(path), split))
        return rows
    except DataFileError as exc:
        raise UserError(f"{label}: {exc}") from None
