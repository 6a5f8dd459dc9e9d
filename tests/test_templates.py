"""template=released: the authors' prompt messages in the model's own chat template.

The authors' loader (A-Data-Centric-Study verl/utils/dataset/rl_dataset.py, as compiled)
rendered ``apply_chat_template(released_message, add_generation_prompt=True)``. Qwen's
tokenizer cannot be downloaded here, so a tokenizer built offline carries a Qwen2.5-style
chat template (default system prompt included) written out below.
"""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from mdrl.cli import compose
from mdrl.domains import get_domain
from mdrl.domains.row_io import read_records
from mdrl.jobs import verl_config
from mdrl.jobs.prepare import apply_template, prepare
from mdrl.jobs.templates import released_messages, render

# Qwen2.5's chat template without the tool branches: a default system turn when the
# messages have none, then ChatML turns, then the assistant header.
QWEN_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}{%- endif %}"
    "{%- for message in messages %}{%- if not (message['role'] == 'system' and loop.first) %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# (released file, loader, domain): every file of the authors' repo that carries prompts
RELEASED = [
    ("dcs/deepscaler/train.parquet", "deepscaler", "math"),
    ("dcs/deepscaler/test.parquet", "deepscaler", "math"),
    ("dcs/countdown/train.parquet", "countdown", "countdown"),
    ("dcs/countdown/test.parquet", "countdown", "countdown"),
    ("dcs/zebra/train.parquet", "lpb", "lpb"),
    ("dcs/zebra/test.parquet", "lpb", "lpb"),
    ("dcs/kk/test.parquet", "kk", "kk"),
    ("dcs/code-r1-12k/test.parquet", "coder1", "code"),
]


@pytest.fixture(scope="module")
def released_cfg() -> dict:
    return OmegaConf.to_container(compose("train", ["template=released", "run_dir=/unused"]).template, resolve=True)


@pytest.fixture(scope="module")
def qwen_dir(tmp_path_factory, shared_data):
    """A tokenizer directory (no weights) whose chat template is Qwen2.5's, trained on
    released prompts so that counting tokens stays quick."""
    from mdrl.jobs.tiny_model import build_tokenizer

    out = tmp_path_factory.mktemp("qwen_tok")
    texts = [r["prompt"][0]["content"] for f in ("dcs/deepscaler/test.parquet", "dcs/countdown/test.parquet", "dcs/zebra/test.parquet") for r in read_records(shared_data / f)]
    tok = build_tokenizer(texts, 2000, out)
    tok.chat_template = QWEN_TEMPLATE
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def qwen(qwen_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(qwen_dir)


def chat(tok, messages) -> str:
    return tok.apply_chat_template([{"role": m["role"], "content": m["content"]} for m in messages], add_generation_prompt=True, tokenize=False)


@pytest.mark.parametrize("path, loader, domain", RELEASED, ids=[r[0] for r in RELEASED])
def test_released_rows_render_as_the_authors_loader_did(path, loader, domain, released_cfg, qwen, shared_data):
    raw = read_records(shared_data / path)
    rows = get_domain(domain).loaders[loader](str(shared_data / path), "test")
    assert len(rows) == len(raw) > 0
    for row, rec in zip(rows, raw):
        out = apply_template(row, released_cfg, domain, released=True)
        assert out["extra_info"]["raw_prompt"] is None  # a chat prompt: veRL applies the chat template
        assert chat(qwen, out["prompt"]) == chat(qwen, rec["prompt"])


@pytest.mark.parametrize("path, loader, domain", RELEASED, ids=[r[0] for r in RELEASED])
def test_released_wording_rebuilds_the_released_messages(path, loader, domain, released_cfg, shared_data):
    """The wording used for sources without released prompts is the authors' own: built from
    the bare question it gives back the released message (except where the loader's
    question lost whitespace, or a row is a TACO task with CodeR1's other lead-in)."""
    raw = read_records(shared_data / path)
    rows = get_domain(domain).loaders[loader](str(shared_data / path), "test")
    same = near = 0
    comparable = 0
    for row, rec in zip(rows, raw):
        if domain == "code" and "TACO" in str(row["extra_info"].get("dataset")):
            continue  # TACO rows: "Solve the programming task below in a Python markdown code block.\n"
        comparable += 1
        built = released_messages(released_cfg, domain, row["extra_info"]["question"])
        want = [{"role": m["role"], "content": m["content"]} for m in rec["prompt"]]
        if built == want:
            same += 1
        elif [m["role"] for m in built] == [m["role"] for m in want] and [" ".join(m["content"].split()) for m in built] == [" ".join(m["content"].split()) for m in want]:
            near += 1  # differs in whitespace only (the question was stripped when loaded)
    assert comparable > 0 and same + near == comparable
    assert same / comparable >= 0.97, (same, near, comparable)


def test_logic_rl_kk_rows_get_the_authors_base_layout(released_cfg, shared_data):
    """The KK training files are Logic-RL's instruct ones (Qwen markup baked into the text):
    template=released rebuilds the base layout of the authors' own KK file instead."""
    rows = get_domain("kk").loaders["kk"](str(shared_data / "kk_logic_rl/3ppl_train.parquet"), "train")
    assert "<|im_start|>" in rows[0]["prompt"][0]["content"]
    test_prompt = read_records(shared_data / "dcs/kk/test.parquet")[0]["prompt"][0]["content"]
    head = test_prompt[: test_prompt.index("New question:")]
    for row in rows[:50]:
        msg = apply_template(row, released_cfg, "kk", released=False)["prompt"]
        assert len(msg) == 1 and msg[0]["role"] == "user"
        assert "<|im_start|>" not in msg[0]["content"]
        assert msg[0]["content"].startswith(head) and msg[0]["content"].endswith(row["extra_info"]["question"] + "\nAssistant: <think>")


def test_prepare_writes_released_prompts_and_veRL_gets_the_models_template(released_cfg, qwen, qwen_dir, shared_data, tmp_path):
    cfg = compose(
        "train",
        [
            f"run_dir={tmp_path}", f"model.path={qwen_dir}", f"catalog.data_root={shared_data}", "template=released",
            "mixture=math_puzzle", "mixture.rows_per_study_domain=40", "mixture.val=[math500,aime24,countdown,kk]", "mixture.val_rows=20",
            "algorithm.max_prompt_length=100000",
        ],
    )
    manifest = prepare(cfg, tmp_path / "data")
    import pandas as pd

    released = {}
    for path, _, _ in RELEASED:
        for rec in read_records(shared_data / path):
            released.setdefault(rec["data_source"], set()).add(chat(qwen, rec["prompt"]))
    train = pd.read_parquet(manifest["train_files"][0])
    val = pd.read_parquet(manifest["val_file"])
    for df in (train, val):
        for _, row in df.iterrows():
            rendered = chat(qwen, list(row["prompt"]))
            if row["data_source"] == "kk_logic" and row["extra_info"]["split"] == "train":
                # no released KK train file: the built base layout
                assert rendered == chat(qwen, released_messages(released_cfg, "kk", row["extra_info"]["question"]))
            else:
                assert rendered in released[row["data_source"]], row["data_source"]
    assert manifest["template"] == "released"
    vcfg = verl_config.build(cfg, manifest["train_files"], manifest["val_file"], str(qwen_dir))
    assert vcfg.actor_rollout_ref.model.custom_chat_template is None  # the model's own chat template


def test_other_templates_are_unchanged(released_cfg):
    r1 = OmegaConf.to_container(compose("train", ["template=r1", "run_dir=/unused"]).template, resolve=True)
    out = render(r1, "countdown", "Q?")
    assert out["raw_prompt"].endswith("User: Q?\nAssistant: <think>") and out["prompt"][0]["content"] == out["raw_prompt"]
    none = OmegaConf.to_container(compose("train", ["template=none", "run_dir=/unused"]).template, resolve=True)
    assert render(none, "kk", " Q? ")["prompt"] == [{"role": "user", "content": "Q?"}]
    # released: a row's own prompt is kept only when it comes from a released file
    own = [{"role": "user", "content": "anything"}]
    assert render(released_cfg, "math", "Q?", own_prompt=own)["prompt"] == own
    assert render(released_cfg, "math", "Q?")["prompt"][0]["content"].endswith("\nUser: Q?\nAssistant: <think>")
    with pytest.raises(ValueError, match="no released wording"):
        released_messages(released_cfg, "chess", "Q?")
