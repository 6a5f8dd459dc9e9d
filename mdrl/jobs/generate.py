"""Generation backends for ``mdrl eval``: vLLM's offline engine (GPU) or transformers (anywhere).

Both take fully rendered prompt strings and return, per prompt, ``n`` samples of
(text, generated token count, finish reason). mdrl writes no inference engine of its own:
the vLLM backend is ``vllm.LLM(...).generate(prompts, SamplingParams(...))`` and the
transformers backend is ``model.generate`` on left-padded batches.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from typing import Any, Mapping, Sequence

from mdrl.errors import UserError


@dataclasses.dataclass(frozen=True)
class Sample:
    text: str
    tokens: int
    finish_reason: str  # "stop" (end of sequence) or "length" (hit max_tokens)


@dataclasses.dataclass(frozen=True)
class Decoding:
    """Decoding settings; temperature 0 means greedy."""

    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 1024
    seed: int = 0

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


def choose_backend(requested: str, gpu: bool | None = None, vllm: bool | None = None) -> tuple[str, str]:
    """(backend, reason): vLLM where a GPU and vLLM are present, transformers otherwise."""
    if gpu is None:
        import torch

        gpu = torch.cuda.is_available()
    if vllm is None:
        vllm = importlib.util.find_spec("vllm") is not None
    if requested == "hf":
        return "hf", "requested"
    if requested == "vllm":
        if not (gpu and vllm):
            missing = " and ".join(x for x, ok in (("a GPU", gpu), ("the vllm package", vllm)) if not ok)
            raise UserError(f"backend=vllm needs {missing}; use backend=hf (transformers) or backend=auto")
        return "vllm", "requested"
    if requested != "auto":
        raise UserError(f"backend must be auto, vllm or hf, not {requested!r}")
    if gpu and vllm:
        return "vllm", "a GPU and vLLM are present"
    missing = " and ".join(x for x, ok in (("a GPU", gpu), ("vLLM", vllm)) if not ok)
    return "hf", f"{missing} not found; generating with transformers"


def load_tokenizer(path: str):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"  # decoder-only batches must end where generation starts
    return tok


def prompt_text(tokenizer: Any, rendered: Mapping) -> str:
    """The exact text the model sees: a raw template's string, or the chat template applied."""
    if rendered.get("raw_prompt"):
        return str(rendered["raw_prompt"])
    if not getattr(tokenizer, "chat_template", None):
        raise UserError("this template is a chat template but the model's tokenizer has none; use template=r1 or template=none")
    return tokenizer.apply_chat_template(list(rendered["prompt"]), add_generation_prompt=True, tokenize=False)


class HFGenerator:
    """Batched ``model.generate`` with transformers (CPU or one GPU)."""

    name = "hf"

    def __init__(self, path: str, batch_size: int = 32, dtype: str = "auto", device: str | None = None, threads: int | None = None) -> None:
        import torch
        from transformers import AutoModelForCausalLM

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if self.device == "cpu" and threads:
            torch.set_num_threads(int(threads))
        if dtype == "auto":
            dtype = "bfloat16" if self.device.startswith("cuda") else "float32"
        self.tokenizer = load_tokenizer(path)
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype)).to(self.device).eval()
        self.batch_size = max(1, int(batch_size))

    def generate(self, prompts: Sequence[str], dec: Decoding) -> list[list[Sample]]:
        torch, tok = self.torch, self.tokenizer
        flat = [(i, j) for i in range(len(prompts)) for j in range(dec.n)]
        out: list[list[Sample]] = [[] for _ in prompts]
        eos = tok.eos_token_id
        for start in range(0, len(flat), self.batch_size):
            chunk = flat[start : start + self.batch_size]
            enc = tok([prompts[i] for i, _ in chunk], return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
            kwargs: dict[str, Any] = {"max_new_tokens": dec.max_tokens, "pad_token_id": tok.pad_token_id, "eos_token_id": eos}
            if dec.greedy:
                kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
            else:
                kwargs.update(do_sample=True, temperature=dec.temperature, top_p=dec.top_p, top_k=0)
                torch.manual_seed(dec.seed * 1_000_003 + start)  # reproducible per batch
            with torch.inference_mode():
                gen = self.model.generate(**enc, **kwargs)
            new = gen[:, enc["input_ids"].shape[1] :].cpu()
            for row, (i, _) in zip(new, chunk):
                ids = row.tolist()
                stop = ids.index(eos) if eos in ids else None
                kept = ids if stop is None else ids[:stop]
                out[i].append(Sample(tok.decode(kept, skip_special_tokens=True), len(kept) + (stop is not None), "stop" if stop is not None else "length"))
        return out

    def close(self) -> None:
        del self.model
        if self.device.startswith("cuda"):
            self.torch.cuda.empty_cache()


class VLLMGenerator:
    """vLLM's offline engine: ``LLM.generate(prompts, SamplingParams)``; tensor parallel as a setting."""

    name = "vllm"

    def __init__(self, path: str, tensor_parallel_size: int = 1, gpu_memory_utilization: float = 0.85, max_model_len: int | None = None, seed: int = 0, dtype: str = "auto") -> None:
        from vllm import LLM

        self.tokenizer = load_tokenizer(path)
        kwargs: dict[str, Any] = dict(model=path, tensor_parallel_size=int(tensor_parallel_size), gpu_memory_utilization=float(gpu_memory_utilization), seed=int(seed), dtype=dtype)
        if max_model_len:
            kwargs["max_model_len"] = int(max_model_len)
        self.llm = LLM(**kwargs)

    @staticmethod
    def sampling_params(dec: Decoding):
        from vllm import SamplingParams

        if dec.greedy:
            return SamplingParams(n=dec.n, temperature=0.0, max_tokens=dec.max_tokens, seed=dec.seed)
        return SamplingParams(n=dec.n, temperature=dec.temperature, top_p=dec.top_p, max_tokens=dec.max_tokens, seed=dec.seed)

    def generate(self, prompts: Sequence[str], dec: Decoding) -> list[list[Sample]]:
        outputs = self.llm.generate(list(prompts), self.sampling_params(dec), use_tqdm=False)
        return [[Sample(c.text, len(c.token_ids), str(c.finish_reason or "stop")) for c in o.outputs] for o in outputs]

    def close(self) -> None:
        import gc

        import torch

        # vLLM frees its GPU memory only once the engine is gone; needed between checkpoints
        try:
            from vllm.distributed.parallel_state import destroy_distributed_environment, destroy_model_parallel

            destroy_model_parallel()
            destroy_distributed_environment()
        except Exception:  # noqa: BLE001 - best effort across vLLM versions
            pass
        del self.llm
        gc.collect()
        torch.cuda.empty_cache()


def make_generator(backend: str, path: str, cfg: Mapping) -> HFGenerator | VLLMGenerator:
    """The generator for ``backend`` ('hf' or 'vllm') over the model at ``path``."""
    if backend == "vllm":
        v = cfg.get("vllm") or {}
        return VLLMGenerator(path, v.get("tensor_parallel_size", 1), v.get("gpu_memory_utilization", 0.85), v.get("max_model_len"), int(cfg.get("seed", 0)), v.get("dtype", "auto"))
    h = cfg.get("hf") or {}
    return HFGenerator(path, h.get("batch_size", 32), h.get("dtype", "auto"), h.get("device"), h.get("threads"))
