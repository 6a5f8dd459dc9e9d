"""Knights and Knaves (K&K): say who is a knight (truth-teller) and who is a knave (liar).

Ground truth: ``{"solution_text_format": "(1) Aurora is a knight\\n(2) Logan is a knave ...",
"statements": "(('or', ('lying', 1), ...), ...)"}`` as in the released Logic-RL / DCS files;
a JSON string of that object, or the bare ``solution_text_format`` text, is accepted too.

Answer rules (the text inside the last ``<answer>`` block):

* every gold person is looked up by name (whole word, any case) followed by a role claim:
  ``Name is a knight``, ``**Name** is a **Knight**.``, ``Name: knave``, ``| Name | knave |``,
  ``Name is not a knave`` (read as knight); "(k)" numbering, order and punctuation don't matter;
* a person claimed with both roles counts wrong (no hedging), a person never claimed counts wrong;
* ``fraction`` = persons right / persons in the gold; ``correct`` = every person right.

The released reward (Logic-RL / the DCS repo) is 0/1 on the same "Name is a role" claims, and
also fails an answer whose count of the words knight/knave differs from the number of people;
we do not copy that rule, since it fails correct answers that mention a role twice.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from . import lang, row_info
from .base import Chinese, Domain, Knob, Row, Verdict, Wording, register
from .row_io import DataFileError, decode_json, extra_info_of, load_hf, prompt_messages, read_records
from .row_io import record_index, strip_r1_template, user_text, verl_row
from .safe_verify import never_raises

# The parts live in their own modules; their public names stay importable from here.
from .kk_format import ABILITY, DATA_SOURCE, R1_PREFIX, R1_SUFFIX, ROLE_PAIRS  # noqa: F401
from .kk_format import r1_prompt, solution_text_format  # noqa: F401
from .kk_generator import ENGLISH, NAMES, TEMPLATES, Phrases, _say, generate, quiz_text, say  # noqa: F401
from .kk_logic import holds, parse_statements, solve  # noqa: F401

HF_DATASET = "K-and-K/knights-and-knaves"  # the original K&K release (configs train/test, splits 2ppl..8ppl)
MAX_ANSWER_CHARS = 50_000  # a K&K answer is a few hundred characters; longer text is not an answer


# ---------------------------------------------------------------------------- verifier

_MARKDOWN = re.compile(r"[*_`#~]+")
_GOLD_LINE = re.compile(r"([A-Za-z][A-Za-z'\-]*)\s+is\s+(?:a|an)\s+([A-Za-z]+)", re.IGNORECASE)
# Chinese golds and answers (language=zh): 骑士/骗子 (simplified) or 騎士/騙子 (traditional) read as
# knight/knave; "不是"/"并非" negate like "is not". Chinese names have no word boundaries, so the
# Chinese claim pattern finds them by text (kk_zh's names are all two characters: none hides another).
ZH_ROLE_WORDS = {"骑士": "knight", "騎士": "knight", "骗子": "knave", "騙子": "knave", "无赖": "knave", "無賴": "knave"}
_GOLD_LINE_ZH = re.compile(r"([^\s()（）:：,，、]+?)\s*(?:是|为|為)\s*(骑士|骗子|騎士|騙子)")
_ZH_VERB = r"(?:(?:应该|應該|一定|肯定|必定|必然|必须|必須|就|则|則|也|还|還)\s*)?"
_ZH_IS = r"(是|为|為|乃|并不是|並不是|不是|并非|並非|非)?"
_ZH_MEASURE = r"(?:(?:一个|一個|一名|一位|个|個|名|位)\s*)?"


def _pair_for(words: set[str]) -> tuple[str, str]:
    for pair in ROLE_PAIRS:
        if words & set(pair):
            return pair
    return ROLE_PAIRS[0]


def ground_truth_fields(gt: Any) -> Mapping:
    """The gold's fields from a mapping, its JSON text, or the bare ``solution_text_format`` text; raises ValueError."""
    gt = decode_json(gt, keep_text=True)
    if isinstance(gt, str):
        if gt.lstrip().startswith("{"):
            raise ValueError("ground truth starts like a JSON object but is not valid JSON")
        return {"solution_text_format": gt.strip()}
    if not isinstance(gt, Mapping):
        raise ValueError(f"ground truth is a {type(gt).__name__}, not a mapping")
    return gt


def parse_ground_truth(gt: Any) -> tuple[dict[str, bool], tuple[str, str]]:
    """({name: is_knight} in gold order, (knight word, knave word)); raises ValueError."""
    gt = ground_truth_fields(gt)
    roles: dict[str, bool] = {}
    text = gt.get("solution_text_format")
    if isinstance(text, str) and text.strip():
        claims = _GOLD_LINE.findall(text)
        if not claims:  # a Chinese gold: "(1) 王芳是骑士"
            claims = [(n, ZH_ROLE_WORDS[w]) for n, w in _GOLD_LINE_ZH.findall(text)]
        pair = _pair_for({w.lower() for _, w in claims})
        for name, word in claims:
            if word.lower() not in pair:
                raise ValueError(f"unknown role {word!r} in the ground truth")
            roles[name] = word.lower() == pair[0]
    elif gt.get("names") is not None and gt.get("solution") is not None:
        # raw K&K records: parallel lists of names and booleans
        pair = ROLE_PAIRS[0]
        roles = {str(n): bool(s) for n, s in zip(list(gt["names"]), list(gt["solution"]))}
    else:
        raise ValueError("ground truth needs 'solution_text_format' (or 'names' + 'solution')")
    if not roles:
        raise ValueError("ground truth names nobody")
    return roles, pair


def parse_answer(answer: str, names: Sequence[str], pair: tuple[str, str] = ROLE_PAIRS[0]) -> dict[str, Any]:
    """{name: "knight" | "knave" | "conflict"} for each of ``names`` the answer makes a claim about."""
    text = _MARKDOWN.sub("", answer)
    knight, knave = pair
    name_alt = "|".join(sorted((re.escape(n) for n in names), key=len, reverse=True))
    # Name, a separator ("is", ":", "=", "-", "|", "->"), optional "not", optional article, role.
    # Every quantifier is over a single character class or a fixed word, so matching stays linear.
    pattern = re.compile(
        rf"\b({name_alt})\b[\s:=|>\-\u2013\u2014\u2192]*(?:(?:is|was|would\s+be|must\s+be)\s+)?"
        rf"(not\s+)?(?:(?:a|an|the)\s+)?({re.escape(knight)}|{re.escape(knave)})s?\b",
        re.IGNORECASE,
    )
    canon = {n.lower(): n for n in names}
    seen: dict[str, set[str]] = {}
    for m in pattern.finditer(text):
        name = canon[m.group(1).lower()]
        is_knight = (m.group(3).lower() == knight) != bool(m.group(2))
        seen.setdefault(name, set()).add(knight if is_knight else knave)
    if pair == ROLE_PAIRS[0] and (lang.has_cjk(text) or lang.has_cjk("".join(names))):
        for name, is_knight in _zh_claims(text, names):
            seen.setdefault(canon[name.lower()], set()).add(knight if is_knight else knave)
    return {n: (next(iter(r)) if len(r) == 1 else "conflict") for n, r in seen.items()}


def _zh_claims(text: str, names: Sequence[str]) -> list[tuple[str, bool]]:
    """(name as it matched, is_knight) for each Chinese-style claim ("王芳是骑士", "王芳：骗子", "王芳不是骗子").

    ASCII names keep letter boundaries ("Emma是骑士" counts, "Emmanuel是骑士" does not claim Emma);
    every quantifier is over one character class or a fixed word, so matching stays linear.
    """
    alts = []
    for n in sorted(names, key=len, reverse=True):
        alts.append(rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])" if n.isascii() else re.escape(n))
    pattern = re.compile(
        rf"({'|'.join(alts)})[\s:：=|>\-\u2013\u2014\u2192,，、】」』”\"]*{_ZH_VERB}{_ZH_IS}\s*{_ZH_MEASURE}"
        rf"(骑士|騎士|骗子|騙子|无赖|無賴|knight|knave)",
        re.IGNORECASE,
    )
    out = []
    for m in pattern.finditer(text):
        negated = bool(m.group(2)) and ("不" in m.group(2) or "非" in m.group(2))
        role = ZH_ROLE_WORDS.get(m.group(3), m.group(3).lower())
        out.append((m.group(1), (role == "knight") != negated))
    return out


@never_raises(parsed={}, right=0, total=0)
def verify(answer: str, ground_truth: Any, extra_info: Mapping | None = None, **options: Any) -> Verdict:
    """Score a K&K answer person by person; never raises (any error is a wrong verdict)."""
    return _verify(answer, ground_truth)


def _verify(answer: Any, ground_truth: Any) -> Verdict:
    try:
        gold, pair = parse_ground_truth(ground_truth)
    except (ValueError, TypeError, SyntaxError) as exc:
        return Verdict.wrong(f"bad ground truth: {exc}", parsed={}, right=0, total=0)
    total = len(gold)
    if not isinstance(answer, str):
        return Verdict.wrong("answer is not a string", parsed={}, right=0, total=total)
    if len(answer) > MAX_ANSWER_CHARS:
        return Verdict.wrong(f"answer longer than {MAX_ANSWER_CHARS} characters", parsed={}, right=0, total=total)
    parsed = parse_answer(lang.halfwidth(answer), list(gold), pair)  # full-width "：" and digits as ASCII
    right = sum(parsed.get(n) == (pair[0] if k else pair[1]) for n, k in gold.items())
    details = {"parsed": parsed, "right": right, "total": total}
    if right == total:
        return Verdict(1.0, True, {"reason": "correct", **details})
    missing = [n for n in gold if n not in parsed]
    conflicts = [n for n, r in parsed.items() if r == "conflict"]
    parts = []
    if total - right - len(missing) - len(conflicts):
        parts.append(f"{total - right - len(missing) - len(conflicts)} wrong")
    if missing:
        parts.append(f"no claim for {', '.join(missing)}")
    if conflicts:
        parts.append(f"both roles claimed for {', '.join(conflicts)}")
    return Verdict(right / total, False, {"reason": "; ".join(parts), **details})


# ---------------------------------------------------------------------------- loaders


def _statements_text(statements: Any) -> str:
    """The released string form of the statement tuples."""
    return statements if isinstance(statements, str) else repr(parse_statements(statements))


def _row_from_record(rec: Mapping, index: int, split: str) -> Row:
    """A veRL row from a released row (prompt + reward_model) or a raw K&K record."""
    rm = rec.get("reward_model") if isinstance(rec.get("reward_model"), Mapping) else None
    gt = rm.get("ground_truth") if rm else None
    gt = decode_json(gt, keep_text=True)
    if isinstance(gt, Mapping):
        truth = {"solution_text_format": str(gt.get("solution_text_format", "")),
                 "statements": str(gt.get("statements", rec.get("statements", "")))}
    else:
        names, sol = rec.get("names"), rec.get("solution")
        stf = rec.get("solution_text_format") or (solution_text_format(names, sol) if names and sol is not None else "")
        truth = {"solution_text_format": str(stf), "statements": _statements_text(rec.get("statements", ""))}
    gold, _pair = parse_ground_truth(truth)  # raises on an unusable record
    info = extra_info_of(rec)
    idx = record_index(rec, index, top_level=True)
    # rows written by mdrl carry their bare question already (their prompt may use another template)
    quiz = rec.get("quiz") or info.get("question")
    if rec.get("prompt") is not None:
        prompt = prompt_messages(rec["prompt"])
        if not quiz:
            quiz = strip_r1_template(user_text(rec["prompt"])).split("New question:", 1)[-1].strip()
    else:
        if not quiz:
            raise ValueError("record has neither a prompt nor a quiz")
        prompt = prompt_messages(r1_prompt(str(quiz)))
    names = [str(n) for n in rec["names"]] if rec.get("names") is not None else list(gold)
    solution = [bool(s) for s in rec["solution"]] if rec.get("solution") is not None else list(gold.values())
    return verl_row(
        str(rec.get("data_source") or DATA_SOURCE),
        str(quiz),
        truth,
        str(rec.get("ability") or ABILITY),
        split,
        idx,
        prompt=prompt,
        names=names,
        knights=solution,
        num_people=len(names),
    )


def load_kk(path: str | None = None, split: str = "test", people: Sequence[int] = range(2, 9)) -> list[Row]:
    """K&K rows from a released parquet (dcs/kk, kk_logic_rl), a raw K&K JSONL, or the hub.

    Released rows keep their prompt and data_source; raw records (quiz, names, solution,
    solution_text_format, statements) get the Logic-RL base prompt. With ``path=None`` the
    hub dataset :data:`HF_DATASET` is read (config ``split``, one hub split per people count).
    """
    if path:
        records = read_records(path)
    else:
        records = []
        for n in people:
            records.extend(load_hf(HF_DATASET, f"{int(n)}ppl", name=split))
    rows = []
    for i, rec in enumerate(records):
        try:
            rows.append(_row_from_record(rec, i, split))
        except (ValueError, TypeError, KeyError, SyntaxError) as exc:
            raise DataFileError(f"K&K record {i} of {path or HF_DATASET} is malformed: {exc}") from exc
    return rows



def difficulty(row: Row) -> float:
    """How many people the puzzle has (the generator's ``num_people``), else counted in the gold."""
    known = row_info.number(row_info.info(row).get("num_people"))
    if known:
        return known
    gt = row_info.ground_truth(row) or {}
    text = gt.get("solution_text_format", "") if isinstance(gt, dict) else ""
    return float(len(re.findall(r"\bis an? (?:knight|knave)", text, flags=re.I)))


def gold(row: Row) -> str | None:
    """The dataset's own solution text: "(1) Zoey is a knight\n(2) ..."."""
    return row_info.ground_truth(row).get("solution_text_format")


def tell_in_chinese(row: Row, script: str) -> Row:
    """A released KK row told in Chinese (same statements and solution; :mod:`.kk_zh`)."""
    from . import kk_zh

    return kk_zh.to_chinese(row, script)


WORDING = {
    "en": Wording(
        task="a logical reasoning problem",
        instruction="clearly state the identity of each character within <answer> </answer> tags. "
                    "i.e., <answer> (1) Zoey is a knight\n(2) ... </answer>.",
    ),
    "zh-simplified": Wording(task="一道逻辑推理题",
                             instruction="请在 <answer> </answer> 标签内逐一说明每个人的身份，例如 <answer> (1) 王芳是骑士\n(2) ... </answer>。"),
    "zh-traditional": Wording(task="一道邏輯推理題",
                              instruction="請在 <answer> </answer> 標籤內逐一說明每個人的身份，例如 <answer> (1) 王芳是騎士\n(2) ... </answer>。"),
}

DOMAIN = register(
    Domain(
        name="kk",
        data_sources=("kk_logic", "kk", "knights_knaves"),
        verify=verify,
        wording=WORDING,
        difficulty=difficulty,
        gold=gold,
        timeout_s=5.0,
        loaders={"kk": load_kk},
        generate=generate,
        knob=Knob("num_people", 2, 8),
        chinese=Chinese(tell=tell_in_chinese, generator=True, generator_script=True),
    )
)
