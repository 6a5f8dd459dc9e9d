"""``mdrl data fetch``: download the released data files, checked and resumable.

Each file of ``conf/data.yaml`` comes from its public home (a pinned GitHub commit, or
``mirror``), lands in ``<data_root>/<path>`` (the layout the catalog reads), and is kept
only when its sha256 matches. A transfer is written to ``<path>.part`` first; an
interrupted one is resumed with an HTTP ``Range`` request, on a retry or the next run.
Hugging Face Hub sources are fetched by ``huggingface_hub``, which resumes and caches
on its own. Every failure ends in one sentence naming the files that failed and why.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from omegaconf import DictConfig, OmegaConf

from mdrl.errors import UserError

_CHUNK = 1 << 16
_GITHUB_RAW = "https://raw.githubusercontent.com"


@dataclass(frozen=True)
class Release:
    """One released file: where it goes, where it comes from, what it must hash to."""

    path: str
    repo: str
    commit: str
    file: str
    bytes: int
    sha256: str

    @property
    def source(self) -> str:
        return self.path.split("/", 1)[0]

    def url(self, mirror: str | None) -> str:
        if mirror:
            return f"{mirror.rstrip('/')}/{self.path}"
        return f"{_GITHUB_RAW}/{self.repo}/{self.commit}/{self.file}"


class FetchError(Exception):
    """A file that could not be fetched; the message is a short reason."""


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def releases(cfg: DictConfig | Mapping) -> list[Release]:
    files = cfg["files"]
    return [Release(**(OmegaConf.to_container(f) if isinstance(f, DictConfig) else dict(f))) for f in files]


def select(cfg: DictConfig | Mapping, sources: Any) -> tuple[list[Release], list[str]]:
    """The files and hub sources named by ``sources`` (``all``, a name, or a list of names)."""
    files = releases(cfg)
    hub = list((cfg.get("hub") or {}).keys())
    names = [sources] if isinstance(sources, str) else list(sources or [])
    if not names or names == ["all"]:
        return files, []
    known = sorted({f.source for f in files}) + hub
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UserError(f"unknown data source {', '.join(map(repr, unknown))} (choose from all, {', '.join(known)})")
    return [f for f in files if f.source in names], [n for n in hub if n in names]


def _open(url: str, offset: int, timeout: float):
    """A streaming GET from ``offset``; (response, resumed) where resumed means a 206 answer."""
    import requests

    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        resp = requests.get(url, headers=headers, stream=True, timeout=timeout)
    except requests.ConnectionError as exc:
        raise FetchError(f"cannot reach {_host(url)} ({_reason(exc)})") from None
    except requests.Timeout:
        raise FetchError(f"{_host(url)} did not answer within {timeout:g} s") from None
    if resp.status_code == 416 and offset:  # nothing left past offset: the .part is whole
        resp.close()
        return None, True
    if resp.status_code not in (200, 206):
        resp.close()
        raise FetchError(f"HTTP {resp.status_code} from {url}")
    return resp, resp.status_code == 206


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


def _reason(exc: Exception) -> str:
    text = str(exc)
    for key in ("Name or service not known", "Temporary failure in name resolution", "Connection refused", "Network is unreachable", "timed out"):
        if key in text:
            return key.lower()
    return type(exc).__name__


def download(rel: Release, dest: Path, mirror: str | None, retries: int, timeout: float, bar=None) -> str:
    """Fetch one file into ``dest`` (resuming ``dest.part``); 'present' or 'fetched'."""
    import requests

    if dest.exists() and dest.stat().st_size == rel.bytes and sha256_of(dest) == rel.sha256:
        if bar is not None:
            bar.update(rel.bytes)
        return "present"
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    url = rel.url(mirror)
    if part.exists() and part.stat().st_size > rel.bytes:
        part.unlink()  # longer than the file can be: not a prefix of it
    counted = 0
    for attempt in range(retries + 1):
        offset = part.stat().st_size if part.exists() else 0
        resp, resumed = _open(url, offset, timeout)
        if resp is not None:
            if not resumed:
                offset = 0  # the server ignored Range: start over
            if bar is not None and offset > counted:
                bar.update(offset - counted)
                counted = offset
            try:
                with resp, open(part, "ab" if offset else "wb") as fh:
                    for block in resp.iter_content(_CHUNK):
                        fh.write(block)
                        if bar is not None:
                            bar.update(len(block))
                        counted += len(block)
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                if attempt == retries:
                    raise FetchError(f"transfer interrupted {retries + 1} times ({_reason(exc)}); run again to resume") from None
                continue
        size = part.stat().st_size if part.exists() else 0
        if size < rel.bytes and attempt < retries:
            continue  # the server closed early without an error: resume
        break
    got = sha256_of(part) if part.exists() else ""
    if got != rel.sha256:
        part.unlink(missing_ok=True)  # never resume from bytes that cannot be right
        raise FetchError(f"sha256 mismatch (got {got[:12] or 'nothing'}, want {rel.sha256[:12]}); the download was removed")
    part.replace(dest)
    return "fetched"


def fetch_hub(name: str, spec: Mapping, data_root: Path) -> str:
    """Download a Hugging Face Hub dataset repo into ``<data_root>/hub/<repo>``."""
    from huggingface_hub import snapshot_download

    target = data_root / "hub" / str(spec["repo"])
    try:
        snapshot_download(repo_id=str(spec["repo"]), repo_type="dataset", revision=spec.get("revision") or None, local_dir=str(target))
    except Exception as exc:  # noqa: BLE001 - offline, gated, missing: all become one reason
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise FetchError(f"Hugging Face Hub download of {spec['repo']} failed ({type(exc).__name__}: {first[:160]})") from None
    return str(target)


def fetch(cfg: DictConfig | Mapping, progress: bool = True) -> dict:
    """Fetch the selected sources; returns {path: status}; raises UserError if any failed."""
    data_root = Path(str(cfg["data_root"])).expanduser().resolve()
    files, hub = select(cfg, cfg.get("sources", "all"))
    mirror = cfg.get("mirror") or None
    status: dict[str, str] = {}
    failed: dict[str, str] = {}
    from tqdm import tqdm

    total = sum(f.bytes for f in files)
    with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=f"fetching {len(files)} files", disable=not progress, file=sys.stderr, dynamic_ncols=True) as bar:
        for rel in files:
            bar.set_postfix_str(rel.path, refresh=False)
            try:
                status[rel.path] = download(rel, data_root / rel.path, mirror, int(cfg.get("retries", 3)), float(cfg.get("timeout_s", 60)), bar)
            except FetchError as exc:
                failed[rel.path] = str(exc)
    for name in hub:
        try:
            status[name] = fetch_hub(name, cfg["hub"][name], data_root)
        except FetchError as exc:
            failed[name] = str(exc)
    if failed:
        raise UserError(_failure_sentence(failed, len(files) + len(hub), data_root))
    return status


def _failure_sentence(failed: Mapping[str, str], total: int, data_root: Path) -> str:
    reasons = sorted(set(failed.values()))
    if len(reasons) == 1:
        what = f"{len(failed)} of {total} downloads failed ({', '.join(list(failed)[:3])}{', ...' if len(failed) > 3 else ''}): {reasons[0]}"
    else:
        what = f"{len(failed)} of {total} downloads failed: " + "; ".join(f"{k}: {v}" for k, v in list(failed.items())[:4])
        if len(failed) > 4:
            what += "; ..."
    hint = "; check the network or set mirror=URL" if any(r.startswith("cannot reach") for r in reasons) else ""
    return f"{what.rstrip('.')}{hint} (files that did arrive are kept in {data_root}; run again to resume)"


def list_sources(cfg: DictConfig | Mapping) -> Iterable[str]:
    data_root = Path(str(cfg["data_root"])).expanduser()
    for rel in releases(cfg):
        here = (data_root / rel.path).exists()
        yield f"{rel.source:<20} {rel.path:<55} {rel.bytes:>10,d} B  {'present' if here else 'missing'}"
    for name, spec in (cfg.get("hub") or {}).items():
        yield f"{name:<20} hub:{spec['repo']:<51} {'':>12}  fetch with sources={name}"


def run(cfg: DictConfig) -> dict:
    """Entry point of ``mdrl data``."""
    action = str(cfg.get("action", "fetch"))
    if action == "list":
        for line in list_sources(cfg):
            print(line)
        return {}
    if action != "fetch":
        raise UserError(f"unknown action '{action}' for 'mdrl data' (choose from fetch, list)")
    status = fetch(cfg)
    fetched = sum(v == "fetched" for v in status.values())
    print(f"[mdrl] data: {fetched} fetched, {sum(v == 'present' for v in status.values())} already present, "
          f"{len(status) - fetched - sum(v == 'present' for v in status.values())} from the Hub -> {Path(str(cfg.data_root)).resolve()}", file=sys.stderr)
    return status
