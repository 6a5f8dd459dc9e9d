"""``mdrl eval``: the CPU generation path on the tiny model, resume rules, generations= scoring,
checkpoint discovery for TRL- and veRL-shaped run folders, and backend selection."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch

from mdrl.cli import compose, main
from mdrl.errors import UserError
from mdrl.jobs import eval as ev
from mdrl.jobs.checkpoints import Checkpoint, discover, has_weights, materialise, merge_command
from mdrl.jobs.generate import HFGenerator, choose_backend
from mdrl.jobs.results import KEY, ResultsTable

ALL = ["math500", "aime24", "countdown", "humaneval", "mbpp", "kk", "zebralogic"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, shared_data):
    """One tiny model for the module, its tokenizer trained on the benchmarks' prompts."""
    from mdrl.jobs.tiny_model import ensure_tiny_model

    cfg = compose("eval", [f"catalog.data_root={shared_data}"])
    c = __import__("omegaconf").OmegaConf.to_container(cfg, resolve=True)
    texts = []
    for b in ALL:
        dom, rows = ev.load_benchmark(b, c["catalog"], 3)
        texts += [ev.render(c["template"], dom, r["extra_info"]["question"])["raw_prompt"] for r in rows]
    return ensure_tiny_model(c["model"], texts, tmp_path_factory.mktemp("tiny"))


def _args(shared_data, out, model, *extra):
    return ["eval", f"model.path={model}", f"output={out}", f"catalog.data_root={shared_data}", "progress=false", "workers=1", "max_tokens=6", *extra]


def _run(shared_data, out, model, *extra):
    return ev.run(compose("eval", _args(shared_data, out, model, *extra)[1:]))


def test_tiny_model_end_to_end_on_every_benchmark(tmp_path, shared_data, tiny, capsys):
    out = tmp_path / "r.parquet"
    rc = main(_args(shared_data, out, tiny, "limit=2", "n=2", "temperature=0.8", "top_p=0.95", f"benchmarks=[{','.join(ALL)}]"))
    printed = capsys.readouterr()
    assert rc == 0, printed.err[-2000:]
    df = pd.read_parquet(out)
    assert len(df) == len(ALL) * 2 * 2
    assert set(df["benchmark"]) == set(ALL)
    assert not df.duplicated(KEY).any()
    assert {"run", "model", "step", "benchmark", "problem_id", "sample_idx", "template", "prompt_hash", "response",
            "score", "details", "tokens", "config_hash"} <= set(df.columns)
    assert df["score"].between(0, 1).all() and (df["tokens"] <= 6).all() and (df["tokens"] >= 1).all()
    assert set(df["sample_idx"]) == {0, 1} and set(df["template"]) == {"r1"}
    # every row was scored by the shared verifiers: details carry the domain's verdict
    details = df["details"].map(json.loads)
    assert all(d["scheme"] == "binary" and "correct" in d for d in details)
    assert {d["domain"] for d in details} == {"math", "countdown", "code", "kk", "lpb"}
    # one summary line per benchmark, a meta file with the config, no parts left behind
    lines = [l for l in printed.out.splitlines() if "accuracy" in l]
    assert sorted(l.split()[0] for l in lines) == sorted(ALL)
    meta = json.loads(Path(str(out) + ".meta.json").read_text())
    assert meta["config"]["n"] == 2 and meta["summary"]["rows"] == len(df)
    assert not Path(str(out) + ".parts").exists()


def test_prompt_hash_is_the_rendered_template_prompt(tmp_path, shared_data, tiny):
    out = tmp_path / "r.parquet"
    _run(shared_data, out, tiny, "limit=2", "benchmarks=[kk]", "template=none")
    _run(shared_data, out, tiny, "limit=2", "benchmarks=[kk]", "template=r1", "run=r1")
    df = pd.read_parquet(out)
    by = df.groupby("template")["prompt_hash"].apply(set)
    assert by["none"].isdisjoint(by["r1"])
    rows = ev.load_benchmark("kk", compose("eval", [f"catalog.data_root={shared_data}"]).catalog, 2)[1]
    want = ev.text_hash(rows[0]["extra_info"]["question"].strip())
    assert want in by["none"]


def test_greedy_is_deterministic_and_sampling_varies(tmp_path, shared_data, tiny):
    out = tmp_path / "r.parquet"
    _run(shared_data, out, tiny, "limit=1", "benchmarks=[countdown]", "n=3", "temperature=0", "run=greedy", "max_tokens=12")
    _run(shared_data, out, tiny, "limit=1", "benchmarks=[countdown]", "n=6", "temperature=1.5", "top_p=1.0", "run=sampled", "max_tokens=12")
    df = pd.read_parquet(out)
    assert df[df["run"] == "greedy"]["response"].nunique() == 1
    assert df[df["run"] == "sampled"]["response"].nunique() > 1


def test_resume_after_a_crash_loses_at_most_the_batch_in_flight_and_never_duplicates(tmp_path, shared_data, tiny, monkeypatch):
    out = tmp_path / "r.parquet"
    args = ("limit=4", "benchmarks=[kk]", "n=2", "temperature=0.7", "batch_problems=1")
    real_append, real_generate = ResultsTable.append, HFGenerator.generate
    calls = {"append": 0, "prompts": 0}

    def crashing_append(self, rows):
        calls["append"] += 1
        if calls["append"] == 3:
            raise KeyboardInterrupt("simulated crash while writing the third batch")
        return real_append(self, rows)

    monkeypatch.setattr(ResultsTable, "append", crashing_append)
    with pytest.raises(KeyboardInterrupt):
        _run(shared_data, out, tiny, *args)
    survived = ResultsTable(out).load()
    assert len(survived) == 2 * 2  # two finished batches of one problem x two samples
    before = survived.set_index(KEY)["response"].to_dict()
    from mdrl.analysis.load import read_results

    assert len(read_results(str(out))) == 4  # analysis already sees the finished batches

    def counting_generate(self, prompts, dec):
        calls["prompts"] += len(prompts)
        return real_generate(self, prompts, dec)

    monkeypatch.setattr(ResultsTable, "append", real_append)
    monkeypatch.setattr(HFGenerator, "generate", counting_generate)
    _run(shared_data, out, tiny, *args)
    df = pd.read_parquet(out)
    assert calls["prompts"] == 2  # only the two problems never finished were generated
    assert len(df) == 4 * 2 and not df.duplicated(KEY).any()
    assert {k: v for k, v in df.set_index(KEY)["response"].to_dict().items() if k in before} == before
    # a third run has nothing to do
    calls["prompts"] = 0
    _run(shared_data, out, tiny, *args)
    assert calls["prompts"] == 0 and len(pd.read_parquet(out)) == 8


def test_changed_settings_never_reuse_rows(tmp_path, shared_data, tiny):
    out = tmp_path / "r.parquet"
    _run(shared_data, out, tiny, "limit=2", "benchmarks=[kk]")
    for changed in (["n=2", "temperature=0.5"], ["template=none"], ["reward=proportional"]):
        with pytest.raises(UserError, match="made with other settings"):
            _run(shared_data, out, tiny, "limit=2", "benchmarks=[kk]", *changed)
    # a new run label keeps both; overwrite=true replaces the old rows
    _run(shared_data, out, tiny, "limit=2", "benchmarks=[kk]", "reward=proportional", "run=prop")
    _run(shared_data, out, tiny, "limit=2", "benchmarks=[kk]", "n=2", "temperature=0.5", "overwrite=true")
    df = pd.read_parquet(out)
    assert df.groupby("run")["config_hash"].nunique().to_dict() == {"prop": 1, Path(tiny).name: 1}
    assert len(df[df["run"] == "prop"]) == 2 and len(df[df["run"] != "prop"]) == 4


def test_raising_limit_resumes_instead_of_restarting(tmp_path, shared_data, tiny):
    out = tmp_path / "r.parquet"
    _run(shared_data, out, tiny, "limit=2", "benchmarks=[countdown]")
    first = pd.read_parquet(out)
    _run(shared_data, out, tiny, "limit=3", "benchmarks=[countdown]")
    df = pd.read_parquet(out)
    assert len(df) == 3 and df["config_hash"].nunique() == 1
    assert set(first["problem_id"]) < set(df["problem_id"])


def test_generations_file_is_scored_with_the_shared_verifiers(tmp_path, shared_data):
    from mdrl.jobs.warmup import gold_response

    cat = compose("eval", [f"catalog.data_root={shared_data}"]).catalog
    lines = []
    for bench, dom in (("kk", "kk"), ("countdown", "countdown")):
        rows = ev.load_benchmark(bench, cat, 3)[1]
        for r in rows:
            lines.append({"benchmark": bench, "problem_id": r["_problem_id"], "response": gold_response(dom, r)})
            lines.append({"benchmark": bench, "problem_id": r["_problem_id"], "response": "<answer>nothing</answer>"})
    src = tmp_path / "gens.jsonl"
    src.write_text("\n".join(json.dumps(l) for l in lines) + "\n")
    out = tmp_path / "r.parquet"
    summary = _run(shared_data, out, "", f"generations={src}", "benchmarks=[kk,countdown]")
    df = pd.read_parquet(out)
    assert len(df) == 12 and set(df["run"]) == {"gens"}
    assert df[df["sample_idx"] == 0]["score"].tolist() == [1.0] * 6  # gold answers
    assert df[df["sample_idx"] == 1]["score"].tolist() == [0.0] * 6
    assert {s["benchmark"]: s["accuracy"] for s in summary["benchmarks"]} == {"kk": 0.5, "countdown": 0.5}
    # rescoring the same file resumes to nothing; a line naming an unknown problem is refused
    _run(shared_data, out, "", f"generations={src}", "benchmarks=[kk,countdown]")
    assert len(pd.read_parquet(out)) == 12
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"benchmark": "kk", "problem_id": "no-such", "response": "x"}) + "\n")
    with pytest.raises(UserError, match="problem_id 'no-such'"):
        _run(shared_data, tmp_path / "b.parquet", "", f"generations={bad}", "benchmarks=[kk]")


def test_bad_input_is_one_sentence(tmp_path, shared_data, capsys):
    rc = main(_args(shared_data, tmp_path / "r.parquet", str(tmp_path / "missing"), "benchmarks=[kk]", "limit=1"))
    assert rc == 2 and "model path not found" in capsys.readouterr().err
    rc = main(_args(shared_data, tmp_path / "r.parquet", "null", "benchmarks=[nope]"))
    assert rc == 2 and "unknown benchmark 'nope'" in capsys.readouterr().err
    rc = main(_args(shared_data, tmp_path / "r.parquet", "null", "benchmarks=[kk]", "top_p=0"))
    assert rc == 2 and "top_p" in capsys.readouterr().err


def test_backend_selection():
    assert choose_backend("auto", gpu=True, vllm=True)[0] == "vllm"
    assert choose_backend("auto", gpu=True, vllm=False) == ("hf", "vLLM not found; generating with transformers")
    assert choose_backend("auto", gpu=False, vllm=True)[0] == "hf"
    assert choose_backend("hf", gpu=True, vllm=True)[0] == "hf"
    with pytest.raises(UserError, match="backend=vllm needs a GPU"):
        choose_backend("vllm", gpu=False, vllm=True)
    with pytest.raises(UserError, match="needs the vllm package"):
        choose_backend("vllm", gpu=True, vllm=False)
    with pytest.raises(UserError, match="auto, vllm or hf"):
        choose_backend("sglang", gpu=True, vllm=True)


def test_protocol_presets_and_command_line_wins():
    dcs = compose("eval", ["protocol=dcs"])
    assert (dcs.n, dcs.temperature, dcs.max_tokens, dcs.protocol.name) == (1, 0.0, 8192, "dcs")
    assert set(dcs.protocol.shots) >= set(ALL)
    pk = compose("eval", ["protocol=passk", "n=512"])
    assert (pk.n, pk.temperature, pk.top_p) == (512, 0.6, 0.95)


# -- checkpoint discovery ----------------------------------------------------------------------
def _save_hf(model_dir: Path, folder: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    AutoModelForCausalLM.from_pretrained(model_dir).save_pretrained(folder)
    AutoTokenizer.from_pretrained(model_dir).save_pretrained(folder)


def test_trl_run_folder_gives_every_checkpoint_with_its_step(tmp_path, tiny):
    run = tmp_path / "run"
    for step in (2, 4):
        _save_hf(Path(tiny), run / "trl" / "grpo" / f"checkpoint-{step}")
    (run / "trl" / "grpo" / "checkpoint-6").mkdir()  # a partial save (no weights) is ignored
    found = discover(str(run))
    assert [(c.step, c.kind) for c in found] == [(2, "trl"), (4, "trl")]
    _save_hf(Path(tiny), run / "trl" / "final")
    (run / "trl" / "final" / "trainer_state.json").write_text(json.dumps({"global_step": 5}))
    assert [c.step for c in discover(str(run))] == [2, 4, 5]
    assert discover(str(run / "trl" / "grpo" / "checkpoint-4"))[0].step == 4


def test_verl_run_folder_merges_fsdp_shards_with_verls_model_merger(tmp_path, tiny, shared_data, monkeypatch):
    import subprocess

    from transformers import AutoModelForCausalLM, AutoTokenizer

    run = tmp_path / "verl_run"
    ref = AutoModelForCausalLM.from_pretrained(tiny)
    # step 10: veRL's FSDP checkpoint layout (one rank, plain tensors) + actor/huggingface config
    actor = run / "checkpoints" / "global_step_10" / "actor"
    (actor / "huggingface").mkdir(parents=True)
    torch.save(ref.state_dict(), actor / "model_world_size_1_rank_0.pt")
    (actor / "fsdp_config.json").write_text(json.dumps({"FSDP_version": 1, "world_size": 1}))
    ref.config.save_pretrained(actor / "huggingface")
    AutoTokenizer.from_pretrained(tiny).save_pretrained(actor / "huggingface")
    # step 20: HF weights saved directly by veRL (save_contents with hf_model)
    _save_hf(Path(tiny), run / "checkpoints" / "global_step_20" / "actor" / "huggingface")
    found = discover(str(run))
    assert [(c.step, c.needs_merge) for c in found] == [(10, True), (20, False)]
    assert merge_command(found[0].actor_dir, "/x")[1:] == ["-m", "verl.model_merger", "merge", "--backend", "fsdp", "--local_dir", found[0].actor_dir, "--target_dir", "/x"]

    merges = []
    real_run = subprocess.run

    def counting_run(cmd, *a, **kw):
        if "verl.model_merger" in cmd:
            merges.append(cmd)
        return real_run(cmd, *a, **kw)

    monkeypatch.setattr("mdrl.jobs.checkpoints.subprocess.run", counting_run)
    out = tmp_path / "r.parquet"
    summary = _run(shared_data, out, run, "limit=1", "benchmarks=[countdown]")
    assert len(merges) == 1  # converted once with veRL's own merger
    assert [s["step"] for s in summary["benchmarks"]] == [10, 20]
    merged = Path(found[0].path)
    assert has_weights(merged) and (merged / "tokenizer.json").is_file()
    got = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32)
    for k, v in ref.state_dict().items():
        torch.testing.assert_close(got.state_dict()[k].float(), v.float(), atol=1e-2, rtol=1e-2)  # merger may save bf16
    # the merged folder is reused: discovering and evaluating again merges nothing
    assert not discover(str(run))[0].needs_merge
    _run(shared_data, out, run, "limit=2", "benchmarks=[countdown]")
    assert len(merges) == 1 and len(pd.read_parquet(out)) == 4


def test_failed_merge_is_one_sentence(tmp_path):
    ck = Checkpoint(3, str(tmp_path / "merged_hf"), "verl", needs_merge=True, actor_dir=str(tmp_path))
    with pytest.raises(UserError, match="model merger failed"):
        materialise(ck, runner=lambda cmd: 1)


def test_evaluating_a_run_gives_accuracy_per_step(tmp_path, shared_data, tiny):
    run = tmp_path / "myrun"
    for step in (2, 4):
        _save_hf(Path(tiny), run / "trl" / "grpo" / f"checkpoint-{step}")
    out = tmp_path / "r.parquet"
    summary = _run(shared_data, out, run, "limit=2", "benchmarks=[countdown]")
    df = pd.read_parquet(out)
    assert sorted(df["step"].unique()) == [2, 4] and set(df["run"]) == {"myrun"}
    assert [(s["step"], s["benchmark"]) for s in summary["benchmarks"]] == [(2, "countdown"), (4, "countdown")]
    only = _run(shared_data, tmp_path / "last.parquet", run, "limit=1", "benchmarks=[countdown]", "steps=last")
    assert [s["step"] for s in only["benchmarks"]] == [4]


def test_vllm_backend_calls_the_offline_engine_with_the_decoding_settings(monkeypatch, tiny):
    """vLLM is not installed here: a stand-in module records how mdrl drives LLM.generate."""
    import sys
    import types

    from mdrl.jobs.generate import Decoding, make_generator

    seen = {}

    class SamplingParams:
        def __init__(self, **kw):
            seen.setdefault("params", []).append(kw)

    class LLM:
        def __init__(self, **kw):
            seen["llm"] = kw

        def generate(self, prompts, params, use_tqdm=True):
            seen["prompts"] = prompts
            comp = lambda t: types.SimpleNamespace(text=t, token_ids=[1, 2, 3], finish_reason="length")  # noqa: E731
            return [types.SimpleNamespace(outputs=[comp(f"{p}-a"), comp(f"{p}-b")]) for p in prompts]

    monkeypatch.setitem(sys.modules, "vllm", types.SimpleNamespace(LLM=LLM, SamplingParams=SamplingParams))
    gen = make_generator("vllm", tiny, {"seed": 7, "vllm": {"tensor_parallel_size": 4, "gpu_memory_utilization": 0.7, "max_model_len": 4096}})
    assert seen["llm"] == {"model": tiny, "tensor_parallel_size": 4, "gpu_memory_utilization": 0.7, "seed": 7, "dtype": "auto", "max_model_len": 4096}
    out = gen.generate(["p1", "p2"], Decoding(n=2, temperature=0.6, top_p=0.95, max_tokens=64, seed=7))
    assert seen["params"][-1] == {"n": 2, "temperature": 0.6, "top_p": 0.95, "max_tokens": 64, "seed": 7}
    assert [[s.text for s in per] for per in out] == [["p1-a", "p1-b"], ["p2-a", "p2-b"]]
    assert out[0][0].tokens == 3 and out[0][0].finish_reason == "length"
    gen.generate(["p"], Decoding(n=1, temperature=0.0, max_tokens=8))
    assert seen["params"][-1] == {"n": 1, "temperature": 0.0, "max_tokens": 8, "seed": 0}  # greedy: no top_p
