"""Turning catalog entries (conf/catalog) into rows: loaders over local files, or generators.

The catalog lists data on disk (which files, which loader reads them, the study domain they
count toward). A generated domain needs no entry: a mixture source named like a registered
domain that has a generator, and is not in the catalog, is that generator with its own
defaults (:func:`source_entry`), so a new domain is its module alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from mdrl.errors import UserError
from mdrl.domains import all_domains, domain_for_source, get_domain
from mdrl.domains.row_io import DataFileError


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


def source_entry(catalog: Mapping, name: str) -> dict:
    """The catalog entry of training source ``name``; a registered domain with a generator
    and no catalog entry is ``{domain: name, group: name, train: {generate: {}}}``."""
    entry = (catalog.get("sources") or {}).get(name)
    if entry is not None:
        return dict(entry)
    dom = domain_for_source(name)
    if dom is not None and dom.name == name and dom.generate is not None:
        return {"domain": name, "group": name, "train": {"generate": {}}}
    generated = [d.name for d in all_domains() if d.generate is not None]
    raise UserError(f"mixture source {name!r} is not in the catalog (known: {', '.join(catalog.get('sources') or {})}; "
                    f"or a generated domain: {', '.join(generated)})")


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
