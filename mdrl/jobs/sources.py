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


def load_entry(entry: Mapping, domain_name: str, data_root: str, split: str, label: str) -> list[dict]:
    """Rows of one catalog entry ({loader, files} or {generate}) for ``split``."""
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
