"""``templates.render``: what each template kind makes of a bare question, for every domain."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from mdrl.cli import compose
from mdrl.errors import UserError
from mdrl.jobs.templates import render

STUDY_DOMAINS = ("math", "countdown", "code", "kk", "lpb")
# braces and format fields in a question must reach the prompt verbatim (LaTeX, JSON skeletons)
QUESTION = 'Solve {x} for \\frac{1}{2} and fill {"House 1": {}} with {0}.'


def _template(name: str) -> dict:
    return OmegaConf.to_container(compose("train", ["run_dir=/unused", f"template={name}"]).template, resolve=True)


@pytest.mark.parametrize("domain", STUDY_DOMAINS)
def test_raw_template_is_one_string_with_the_question_once(domain):
    out = render(_template("r1"), domain, f"  {QUESTION}\n")
    text = out["raw_prompt"]
    assert out["prompt"] == [{"role": "user", "content": text}]  # the same text, as one user turn
    assert text.count(QUESTION) == 1 and text.endswith(f"User: {QUESTION}\nAssistant: <think>")  # stripped, then continued in <think>
    assert "<answer>" in text


@pytest.mark.parametrize("domain", STUDY_DOMAINS)
def test_chat_template_is_system_and_user_messages(domain):
    out = render(_template("qwen_chat"), domain, QUESTION)
    assert out["raw_prompt"] is None  # the tokenizer's chat template renders it
    assert [m["role"] for m in out["prompt"]] == ["system", "user"]
    assert out["prompt"][1]["content"] == QUESTION and QUESTION not in out["prompt"][0]["content"]


def test_every_study_domain_has_its_own_wording():
    """Each domain tells the model its own task and answer form; an unknown domain is an
    error, not generic wording."""
    cfg = _template("r1")
    texts = {d: render(cfg, d, "Q")["raw_prompt"] for d in STUDY_DOMAINS}
    assert len(set(texts.values())) == len(STUDY_DOMAINS)  # no two domains are told the same thing
    chat = _template("qwen_chat")
    assert len({render(chat, d, "Q")["prompt"][0]["content"] for d in STUDY_DOMAINS}) == len(STUDY_DOMAINS)
    with pytest.raises(KeyError, match="unknown domain 'no_such_domain'"):
        render(cfg, "no_such_domain", "Q")


@pytest.mark.parametrize("domain", STUDY_DOMAINS)
def test_released_template_keeps_a_released_prompt_and_rebuilds_one_otherwise(domain):
    cfg = _template("released")
    own = [{"role": "user", "content": "the file's own prompt, byte for byte  "}]
    assert render(cfg, domain, QUESTION, own_prompt=own) == {"prompt": own, "raw_prompt": None}
    built = render(cfg, domain, QUESTION)
    assert built["raw_prompt"] is None and sum(m["content"].count(QUESTION) for m in built["prompt"]) == 1
    assert built["prompt"][-1]["role"] == "user" and QUESTION in built["prompt"][-1]["content"]


def test_none_template_is_the_bare_question():
    out = render(_template("none"), "kk", f"\n{QUESTION}  ")
    assert out == {"prompt": [{"role": "user", "content": QUESTION}], "raw_prompt": QUESTION}


def test_math_identity_slip_is_off_unless_asked():
    cfg = _template("r1")
    plain = render(cfg, "math", "Q")["raw_prompt"]
    slipped = render({**cfg, "instruction_variants": {"math": "identity_slip"}}, "math", "Q")["raw_prompt"]
    assert "identity of each character" in slipped and "identity of each character" not in plain
    with pytest.raises(UserError, match="not a math instruction variant") as err:
        render({**cfg, "instruction_variants": {"math": "bogus"}}, "math", "Q")
    assert "\n" not in str(err.value)


def test_an_unknown_template_kind_is_refused():
    with pytest.raises(ValueError, match="raw, chat, released or none"):
        render({"kind": "jinja", "name": "x"}, "kk", "Q")
