"""The SandboxFusion backend: the same request as :func:`mdrl.domains.sandbox.run_program`,
sent to a SandboxFusion server (``pip install 'mdrl[sandbox]'``)."""

from __future__ import annotations

import time
from typing import Any

from .sandbox_pump import STDERR_LIMIT
from .sandbox_result import RunResult


def run_program_sandbox_fusion(
    source: str,
    stdin: str = "",
    timeout_s: float = 10.0,
    memory_mb: int = 2048,
    output_limit: int = 1_000_000,
    *,
    sandbox_url: str | None = None,
) -> RunResult:
    """Run ``source`` on a SandboxFusion server (``pip install 'mdrl[sandbox]'``).

    ``sandbox_url`` defaults to the client's own setting (``SANDBOX_FUSION_ENDPOINT``).
    The server enforces the limits; output is cut to ``output_limit`` here.
    """
    try:
        from sandbox_fusion import RunCodeRequest, run_code
    except ImportError as exc:  # pragma: no cover - optional extra
        raise RuntimeError("the sandbox_fusion backend needs: pip install 'mdrl[sandbox]'") from exc
    t0 = time.monotonic()
    kwargs: dict[str, Any] = {"code": source, "language": "python", "stdin": stdin, "run_timeout": float(timeout_s)}
    fields = getattr(RunCodeRequest, "model_fields", None) or getattr(RunCodeRequest, "__fields__", {})
    if "memory_limit_MB" in fields:  # newer servers accept a memory limit
        kwargs["memory_limit_MB"] = int(memory_mb)
    try:
        resp = run_code(RunCodeRequest(**kwargs), endpoint=sandbox_url or "", client_timeout=float(timeout_s) + 30)
    except Exception as exc:  # noqa: BLE001 - network or server failure: report, don't raise
        return RunResult("", f"sandbox_fusion request failed: {exc}", None, False, "backend_error", time.monotonic() - t0)
    rr = resp.run_result
    if rr is None:
        return RunResult("", resp.message or "no run result", None, False, "backend_error", time.monotonic() - t0)
    status = getattr(rr.status, "value", rr.status)
    timed_out = status == "TimeLimitExceeded"
    out = (rr.stdout or "")[:output_limit]
    return RunResult(
        stdout=out,
        stderr=(rr.stderr or "")[-STDERR_LIMIT:],
        returncode=rr.return_code,
        timed_out=timed_out,
        killed_reason="timeout" if timed_out else ("output_limit" if len(rr.stdout or "") > output_limit else None),
        wall_s=round(time.monotonic() - t0, 4),
        isolation={"backend": "sandbox_fusion"},
    )
