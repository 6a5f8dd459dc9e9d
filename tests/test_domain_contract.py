"""The domain contract (mdrl.domains): register() refuses an incomplete domain in one
sentence, and each built-in domain's wording, difficulty and gold answer work from its module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from mdrl.cli import compose
from mdrl.domains import all_domains, get_domain
from mdrl.domains import countdown, kk, lpb
from mdrl.domains.base import LANGUAGES, Chinese, Domain, Knob, Verdict, Wording, register, unregister
from mdrl.domains.lang import has_cjk
from mdrl.errors import UserError
from mdrl.jobs.templates import render
from mdrl.jobs.warmup import gold_response
from mdrl.registry import Registry, RegistryError
from mdrl.scoring.answer import extract_answer

REPO = Path(__file__).resolve().parents[1]
BUILT_IN = ("math", "countdown", "code", "kk", "lpb")
EN = {"en": Wording(task="a thing", instruction="say it within <answer> </answer> tags.")}


def _verify(answer, ground_truth, extra_info=None, **_):
    return Verdict.right() if answer == ground_truth else Verdict.wrong("mismatch")


def _domain(**fields) -> Domain:
    base = {"name": "contracttest", "data_sources": ("contracttest",), "verify": _verify, "wording": EN,
            "difficulty": lambda row: 1.0, "gold": None}
    return Domain(**{**base, **fields})


@pytest.fixture()
def clean():
    yield
    unregister("contracttest")


@pytest.mark.parametrize("fields, says", [
    ({"wording": {}}, "has no English wording"),
    ({"wording": {"en": Wording(task="", instruction="x")}}, "has no English wording"),
    ({"wording": {**EN, "fr": Wording(task="a", instruction="b")}}, "unknown languages ['fr']"),
    ({"difficulty": None}, "has no difficulty(row) function"),
    ({"verify": None}, "has no verify function"),
    ({"knob": Knob("size", 1, 3)}, "has a difficulty knob or a Chinese generator but no generator"),
    ({"chinese": Chinese(generator=True)}, "has a difficulty knob or a Chinese generator but no generator"),
])
def test_register_refuses_an_incomplete_domain_in_one_sentence(fields, says, clean):
    with pytest.raises(ValueError) as err:
        register(_domain(**fields))
    assert says in str(err.value) and "\n" not in str(err.value)
    assert get_domain("math")  # the registry is untouched
    with pytest.raises(RegistryError):
        get_domain("contracttest")


def test_gold_must_be_said_but_may_be_none(clean):
    no_gold = {k: v for k, v in vars(_domain()).items() if k != "gold"}
    with pytest.raises(ValueError, match="does not say its gold answer"):
        register(Domain(**no_gold))
    dom = register(_domain(gold=None))
    assert gold_response("contracttest", {"reward_model": {"ground_truth": "x"}}) is None  # no warm-up rows
    assert dom.words("zh-simplified") == EN["en"]  # no Chinese wording: English


def test_names_and_sources_are_registered_once(clean):
    register(_domain())
    with pytest.raises(RegistryError, match="domain 'contracttest' is registered twice"):
        register(_domain(data_sources=()))
    with pytest.raises(RegistryError, match="claimed by 'countdown' and 'other'"):
        register(_domain(name="other", data_sources=("cd",)))
    with pytest.raises(RegistryError) as err:
        get_domain("chess")
    assert str(err.value).startswith("unknown domain 'chess'; known: code, contracttest, countdown")


def test_registry_errors_are_one_sentence():
    reg: Registry[int] = Registry("widget")
    reg.add("a", 1)

    @reg.register("b")
    def b() -> int:
        return 2

    assert reg.get("b") is b and reg.names() == ["a", "b"] and "a" in reg and len(reg) == 2
    with pytest.raises(RegistryError) as err:
        reg.add("a", 3)
    assert str(err.value) == "widget 'a' is registered twice"
    with pytest.raises(KeyError) as err:
        reg.get("z")
    assert str(err.value) == "unknown widget 'z'; known: a, b"
    assert reg.remove("a") == 1 and reg.names() == ["b"]


def test_every_domain_speaks_every_language():
    assert {d.name for d in all_domains()} >= set(BUILT_IN)
    for name in BUILT_IN:
        dom = get_domain(name)
        assert set(dom.wording) == set(LANGUAGES), name
        en = dom.words("en")
        assert en.task.isascii() and "<answer> </answer>" in en.instruction, name
        for lang in ("zh-simplified", "zh-traditional"):
            zh = dom.words(lang)
            assert has_cjk(zh.task) and has_cjk(zh.instruction) and "<answer> </answer>" in zh.instruction, (name, lang)
        assert dom.words("zh-simplified") != dom.words("zh-traditional"), name
    assert len({get_domain(n).words("en").task for n in BUILT_IN}) == len(BUILT_IN)  # each names its own task


def _template(name: str, *overrides: str) -> dict:
    return OmegaConf.to_container(compose("train", [f"template={name}", "run_dir=/unused", *overrides]).template, resolve=True)


def test_templates_fill_in_the_domains_own_wording():
    r1, chat = _template("r1"), _template("qwen_chat")
    for name in BUILT_IN:
        words = get_domain(name).words("en")
        text = render(r1, name, "Q?")["raw_prompt"]
        assert f"Now the user asks you to solve {words.task}. After thinking, when you finally reach a conclusion, {words.instruction}\nUser: Q?" in text
        system = render(chat, name, "Q?")["prompt"][0]["content"]
        assert system.endswith(words.instruction) and words.task in system


def test_instruction_variants_are_the_domains_and_checked():
    slip = _template("r1", "+template.instruction_variants.math=identity_slip")
    assert "clearly state the identity of each character within <answer> </answer> tags.\nUser:" in render(slip, "math", "Q?")["raw_prompt"]
    assert "\\boxed" not in render(slip, "math", "Q?")["raw_prompt"]
    assert "\\boxed" in render(_template("r1"), "math", "Q?")["raw_prompt"]
    bad = _template("r1", "+template.instruction_variants.kk=identity_slip")
    with pytest.raises(UserError, match="is not a kk instruction variant"):
        render(bad, "kk", "Q?")


@pytest.mark.parametrize("module, knob", [(countdown, "num_count"), (kk, "num_people"), (lpb, "houses")])
def test_generated_rows_have_a_gold_their_verifier_accepts(module, knob):
    dom = get_domain(module.DOMAIN.name)
    assert dom.knob.name == knob
    level = dom.knob.low + 1
    settings = {"max_number": 9, "max_target": 30} if module is countdown else {}
    rows = module.generate(n=4, seed=2, **{knob: level}, **settings)
    for row in rows:
        response = gold_response(dom.name, row)
        assert response is not None
        verdict = dom.verify(extract_answer(response), row["reward_model"]["ground_truth"], row["extra_info"])
        assert verdict.correct, (dom.name, response, verdict)
        assert dom.difficulty(row) == level


def test_difficulty_falls_back_to_the_ground_truth():
    """Rows written elsewhere (no extra_info knob) still get their domain's difficulty."""
    cd = {"reward_model": {"ground_truth": '{"numbers": [1, 2, 3, 4], "target": 10}'}}
    knk = {"reward_model": {"ground_truth": {"solution_text_format": "(1) Ann is a knight\n(2) Bob is a knave"}}}
    grid = {"reward_model": {"ground_truth": '{"House 1": {"Name": "A"}, "House 2": {"Name": "B"}, "House 3": {"Name": "C"}}'}}
    assert (get_domain("countdown").difficulty(cd), get_domain("kk").difficulty(knk), get_domain("lpb").difficulty(grid)) == (4.0, 2.0, 3.0)
    assert get_domain("math").difficulty({"extra_info": {"level": "Level 5"}}) == 5.0
    assert get_domain("math").difficulty({"extra_info": {}}) == 0.0
    assert [get_domain("code").difficulty({"extra_info": {"difficulty": d}}) for d in ("Easy", "medium", "HARD", None)] == [1.0, 2.0, 3.0, 0.0]


def test_gold_of_math_and_code():
    math_row = {"reward_model": {"ground_truth": "\\frac{1}{2}"}}
    assert gold_response("math", math_row) == " </think> <answer> \\boxed{\\frac{1}{2}} </answer>"
    verdict = get_domain("math").verify(extract_answer(gold_response("math", math_row)), "\\frac{1}{2}", None)
    assert verdict.correct
    code_row = {"extra_info": {"reference": "def f():\n    return 1"}}
    assert gold_response("code", code_row) == " </think> <answer> ```python\ndef f():\n    return 1\n``` </answer>"
    assert gold_response("code", {"extra_info": {"reference": None}}) is None  # TACO rows: no warm-up data


@pytest.mark.parametrize("statement", ["import domains.countdown", "import domains, curricula.difficulty, analysis.synergy",
                                       "import domains.code_domain, mdrl.domains"])
def test_the_folders_import_from_the_repository_root(statement):
    """Modules inside domains/ import each other relatively, so the folder imported as
    ``domains`` (from the repo root) does not register its domains a second time."""
    proc = subprocess.run([sys.executable, "-c", statement], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_language_zh_asks_each_domain_what_it_offers(clean):
    """language=zh reads Domain.chinese: a domain without a Chinese generator or teller is refused in one sentence."""
    from mdrl.jobs import language

    register(_domain(generate=lambda n=1, seed=0, split="train", **kw: [], loaders={"files": lambda path, split: []}))
    zh = {"name": "zh", "script": "simplified"}
    with pytest.raises(UserError, match="no Chinese generator for contracttest"):
        language.load_entry({"generate": {"n": 1}}, "contracttest", "/nowhere", "train", "source x", zh)
    with pytest.raises(UserError, match="contracttest data here is English only"):
        language.load_entry({"loader": "files", "files": []}, "contracttest", "/nowhere", "train", "source x", zh)
    rows = language.load_entry({"generate": {"n": 2, "seed": 0}}, "kk", "/nowhere", "train", "source kk", {**zh, "script": "traditional"})
    assert len(rows) == 2 and "騎士" in rows[0]["extra_info"]["question"]
