"""docs/environment.md lists every environment variable the tracked code reads."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "environment.md"
LIBRARY = ("mdrl/", "domains/", "curricula/", "analysis/", "conf/")
# reads of any variable, as Python, OmegaConf and the shell spell them
READS = [
    re.compile(r"""environ\.get\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']"""),
    re.compile(r"""environ\[\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*\](?!\s*=[^=])"""),
    re.compile(r"""getenv\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']"""),
    re.compile(r"""["']([A-Za-z_][A-Za-z0-9_]*)["']\s+(?:not\s+)?in\s+(?:_?os\.)?environ"""),
    re.compile(r"""oc\.env:([A-Za-z_][A-Za-z0-9_]*)"""),
]
NAMED = re.compile(r"\b((?:MDRL|SANDBOX_FUSION)_[A-Z0-9_]*[A-Z0-9])\b")


def _tracked() -> dict[str, str]:
    try:
        names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the list is checked against tracked files")
    out = {}
    for name in names:
        path = REPO / name
        if name in ("docs/environment.md", "tests/test_environment.py") or not path.is_file() or path.suffix in {".parquet", ".png", ".gz", ".ipynb"}:
            continue
        try:
            out[name] = path.read_text()
        except UnicodeDecodeError:
            continue
    return out


def documented() -> set[str]:
    """Variable names in the first column of the tables of docs/environment.md."""
    names = set()
    for line in DOC.read_text().splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", line.split("|")[1]))
    return names


def read_names(files: dict[str, str]) -> dict[str, set[str]]:
    """Variable -> files that read it: MDRL_*/SANDBOX_FUSION_* anywhere, any variable read in library code."""
    found: dict[str, set[str]] = {}
    for name, text in files.items():
        for var in NAMED.findall(text):
            found.setdefault(var, set()).add(name)
        if name.startswith(LIBRARY):
            for pattern in READS:
                for var in pattern.findall(text):
                    found.setdefault(var, set()).add(name)
    return found


def test_every_variable_the_code_reads_is_documented():
    found = read_names(_tracked())
    missing = {var: sorted(files)[:3] for var, files in found.items() if var not in documented()}
    assert not missing, f"add these to docs/environment.md (name, read by, default, meaning): {missing}"


def test_the_list_names_no_variable_nothing_reads():
    """A documented MDRL_* name that no tracked file mentions is stale."""
    found = read_names(_tracked())
    stale = {v for v in documented() if v.startswith("MDRL_") and v not in found}
    assert not stale, f"docs/environment.md lists variables nothing reads: {sorted(stale)}"


def test_the_scan_sees_each_way_of_reading(tmp_path):
    # the patterns catch the spellings the code uses, and a write is not a read
    text = '\n'.join([
        'a = os.environ.get("ONE", "")', 'b = _os.environ["TWO"]', 'os.environ["WRITTEN"] = "x"', 'c = os.getenv("THREE")',
        'if "FOUR" not in os.environ: pass', "root: ${oc.env:FIVE,data}", "# see MDRL_SIX", 'u = "SANDBOX_FUSION_SEVEN"',
    ])
    assert set(read_names({"mdrl/x.py": text})) == {"ONE", "TWO", "THREE", "FOUR", "FIVE", "MDRL_SIX", "SANDBOX_FUSION_SEVEN"}
    assert set(read_names({"tests/x.py": text})) == {"MDRL_SIX", "SANDBOX_FUSION_SEVEN"}  # outside the library: MDRL_* only
    assert {"MDRL_DATA", "MDRL_PLUGINS", "MDRL_SANDBOX_UID", "MDRL_SANDBOX_TOKEN", "MDRL_SLOW", "MDRL_SHARED", "SANDBOX_FUSION_ENDPOINT"} <= documented()
