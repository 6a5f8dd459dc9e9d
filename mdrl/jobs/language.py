"""``language=zh``: which rows ``mdrl prepare`` writes in Chinese, and how each domain gets there.

The language setting (``conf/language/*.yaml``) reaches prepare through three calls:
:func:`for_split` (the settings where a data set is Chinese, else None), :func:`load_entry`
(a catalog entry's rows in that language) and :func:`localize_template` (the template's
wording in Chinese). What each domain offers is its own (``Domain.chinese`` and its
Chinese ``Domain.wording``, in ``domains/<name>.py``); for the built-in ones:

* kk, countdown: released rows keep their structure (statements and solution; numbers and
  target), so they are told in Chinese by the domain's ``*_zh`` module; generator entries get
  ``language: zh``.
* lpb: generator entries get ``language: zh``; the released LPB files are English prose, so
  they need ``language.local_files.lpb``.
* math, code: no Chinese source here; ``language.local_files.<domain>`` names a Chinese file in
  the layout the entry's loader reads, and prepare says which file it used.
"""

from __future__ import annotations

import sys
from typing import Mapping

from omegaconf import DictConfig, OmegaConf

from mdrl.domains import Chinese, get_domain, zh
from mdrl.errors import UserError
from mdrl.jobs import sources

LANGUAGES = ("en", "zh")
ROLES = ("train", "val")


def _chinese(domain: str) -> Chinese:
    """What ``domain`` offers for language=zh (``Domain.chinese``)."""
    return get_domain(domain).chinese


def for_split(cfg: DictConfig | Mapping, role: str) -> dict | None:
    """The language settings when the ``role`` ("train" or "val") data set is Chinese, else None.

    A config without a ``language`` group (older presets) is English.
    """
    node = cfg.get("language") if hasattr(cfg, "get") else None
    if node is None:
        return None
    lang = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)
    name = str(lang.get("name", "en"))
    if name not in LANGUAGES:
        raise UserError(f"language must be one of {', '.join(LANGUAGES)}, got {name!r}")
    apply_to = lang.get("apply_to") or ["train"]
    bad = [r for r in apply_to if r not in ROLES]
    if bad:
        raise UserError(f"language.apply_to takes {' and '.join(ROLES)}, got {bad}")
    if name == "en" or role not in apply_to:
        return None
    try:
        zh.check_script(str(lang.get("script", "simplified")))
    except ValueError as exc:
        raise UserError(f"language.script: {exc}") from None
    return lang


def localize_template(template: Mapping, lang: Mapping | None) -> dict:
    """``template`` with its wording in Chinese (``lang`` None: unchanged).

    Raw templates (r1 and its kin) take the Chinese R1 text, chat templates the Chinese
    system turn, ``none`` stays the bare question; the task phrases and answer instructions
    become each domain's Chinese wording in ``script`` (``Domain.wording``, read at render).
    ``released`` keeps the authors' English messages for the five paper domains; its R1
    layout for other domains turns Chinese like r1's.
    """
    out = dict(template)
    if not lang:
        return out
    script = str(lang.get("script", "simplified"))
    kind = out.get("kind", "raw")
    if kind in ("raw", "released"):
        out["text"] = zh.R1_TEXT[script]
    elif kind == "chat":
        out["system"] = zh.CHAT_SYSTEM[script]
        out["user"] = "{question}"
    out["language"] = "zh"
    out["script"] = script
    return out


def load_entry(entry: Mapping, domain: str, data_root: str, split: str, label: str,
               lang: Mapping | None) -> list[dict]:
    """Rows of one catalog entry in ``lang`` (None: English, exactly :func:`sources.load_entry`)."""
    if not lang:
        return sources.load_entry(entry, domain, data_root, split, label)
    script = str(lang.get("script", "simplified"))
    local = (lang.get("local_files") or {}).get(domain)
    if entry.get("generate") is not None and not local:
        if not _chinese(domain).generator:
            raise UserError(f"{label}: language=zh has no Chinese generator for {domain}; "
                            f"set language.local_files.{domain} to a Chinese data file")
        kwargs = {**dict(entry["generate"]), "language": "zh"}
        if _chinese(domain).generator_script:
            kwargs["script"] = script
        return sources.load_entry({**entry, "generate": kwargs}, domain, data_root, split, label)
    if local:
        files = [local] if isinstance(local, str) else list(local)
        loader = entry.get("loader")
        if loader is None:  # a generator entry whose domain has a local Chinese file: read it with the domain's first loader
            loader = next(iter(get_domain(domain).loaders))
        print(f"language=zh: {label} reads the local Chinese file(s) {', '.join(map(str, files))} "
              f"with the {loader} loader in place of its English data.", file=sys.stderr)
        rows = sources.load_entry({"loader": loader, "files": files}, domain, data_root, split, label)
        return [_tag(r, script) for r in rows]
    tell = _chinese(domain).tell
    if tell is None:
        hint = " (or use its generated source)" if _chinese(domain).generator else ""
        raise UserError(f"{label}: the {domain} data here is English only and cannot be turned into Chinese; "
                        f"set language.local_files.{domain} to a Chinese file in the {entry.get('loader')} "
                        f"loader's layout{hint}")
    rows = sources.load_entry(entry, domain, data_root, split, label)
    try:
        return [tell(r, script) for r in rows]
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{label}: a row cannot be told in Chinese: {exc}") from None


def _tag(row: dict, script: str) -> dict:
    """``row`` marked as Chinese in extra_info (a local file's rows keep their own tag)."""
    info = dict(row.get("extra_info") or {})
    info.setdefault("language", "zh")
    info.setdefault("script", script)
    return {**row, "extra_info": info}
