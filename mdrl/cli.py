"""The ``mdrl`` command: ``mdrl <score|prepare|train|eval|analyze> [-m] key=value ...``.

Each subcommand is a Hydra app whose primary config is ``conf/<subcommand>.yaml``, so
config groups, overrides, ``-m`` multirun and launchers all work as in any Hydra app.
Before handing over to Hydra, the overrides are composed once here so that a bad key or
value ends in one readable sentence instead of a traceback.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from typing import Callable


# subcommand -> "module:function" taking the composed DictConfig
COMMANDS: dict[str, tuple[str, str]] = {
    "score": ("mdrl.jobs.score:run", "score model responses with the verifiers (JSONL in, JSONL out)"),
    "prepare": ("mdrl.jobs.prepare:run", "write a mixture's train/val parquet for veRL, with a manifest"),
    "train": ("mdrl.jobs.train:run", "prepare, then train with veRL (GPU) or TRL (local); dry_run=true prints the veRL config"),
    "eval": ("mdrl.jobs.eval:run", "generate and score benchmark responses into a per-sample results parquet (resumable)"),
    "analyze": ("mdrl.jobs.analyze:run", "pass@k with CIs, transfer matrix, synergy, coverage, perplexity, plots and tables"),
    "data": ("mdrl.jobs.data_fetch:run", "'mdrl data fetch [sources=...] [data_root=...]': download the released data files, checked and resumable"),
}

# commands whose first bare word is an action: `mdrl data fetch ...` = `mdrl data action=fetch ...`
VERB_COMMANDS = {"data"}


from mdrl.errors import UserError  # noqa: E402  (re-exported for the jobs)


def conf_dir() -> str:
    """Where the config tree lives: the installed ``mdrl.conf`` package."""
    import mdrl.conf

    return str(Path(mdrl.conf.__file__).resolve().parent)


def _usage() -> str:
    lines = ["usage: mdrl <command> [-m] [key=value ...]", "", "commands:"]
    lines += [f"  {name:<9} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Run 'mdrl <command> --cfg job' to print a command's composed config."]
    return "\n".join(lines)


def _load(target: str) -> Callable:
    mod, fn = target.split(":")
    return getattr(importlib.import_module(mod), fn)


def explain_compose_error(exc: Exception, command: str) -> str:
    """Turn Hydra/OmegaConf composition errors into one sentence."""
    msg = str(exc)
    m = re.search(r"Could not override '([^']+)'", msg) or re.search(r"Key '([^']+)' is not in struct", msg)
    if m:
        return f"unknown config key '{m.group(1)}' for 'mdrl {command}' (see conf/{command}.yaml; add keys with +key=value)"
    m = re.search(r"Could not find '([^']+)/([^']+)'", msg)
    if m:
        opts = [o for o in re.findall(r"^\t(\S+)$", msg, flags=re.M) if not o.startswith("_")]
        choices = f" (choose from {', '.join(opts)})" if opts else ""
        return f"no option '{m.group(2)}' in config group '{m.group(1)}'{choices}"
    m = re.search(r"Missing mandatory value: (\S+)", msg)
    if m:
        return f"missing required setting '{m.group(1)}' (pass {m.group(1)}=...)"
    first = msg.strip().splitlines()[0] if msg.strip() else type(exc).__name__
    return first.rstrip(".")


def compose(command: str, overrides: list[str]):
    """The composed config of ``command`` with ``overrides`` (no Hydra run directory)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=conf_dir(), version_base="1.3"):
            cfg = hydra_compose(config_name=command, overrides=overrides)
    except Exception as exc:  # noqa: BLE001 - every composition error becomes one sentence
        raise UserError(explain_compose_error(exc, command)) from None
    finally:
        GlobalHydra.instance().clear()
    missing = sorted(k for k in _missing_keys(cfg) if not k.startswith("hydra"))
    if missing:
        raise UserError(f"missing required setting{'s' if len(missing) > 1 else ''} {', '.join(missing)} (pass {missing[0]}=...)")
    return cfg


def _missing_keys(cfg, prefix: str = "") -> list[str]:
    """Keys still set to ``???``, found without resolving interpolations."""
    from omegaconf import DictConfig

    out = []
    for key in cfg.keys():
        node = cfg._get_node(key)
        if node._is_missing():
            out.append(f"{prefix}{key}")
        elif isinstance(node, DictConfig):
            out.extend(_missing_keys(node, f"{prefix}{key}."))
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mdrl`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"mdrl: unknown command '{command}' (choose from {', '.join(COMMANDS)})", file=sys.stderr)
        return 2
    task = _load(COMMANDS[command][0])
    if command in VERB_COMMANDS and rest and "=" not in rest[0] and not rest[0].startswith("-"):
        rest = [f"action={rest[0]}", *rest[1:]]
    multirun = any(a in ("-m", "--multirun") for a in rest)
    overrides = [a for a in rest if not a.startswith("-") and "=" in a]
    try:
        if not multirun and not any(a.startswith("--") for a in rest):
            compose(command, overrides)  # fail fast with one sentence
        return _run_hydra(command, task, rest)
    except UserError as exc:
        print(f"mdrl {command}: {exc}", file=sys.stderr)
        return 2


def _run_hydra(command: str, task: Callable, rest: list[str]) -> int:
    import hydra

    status = {"rc": 0}

    def app(cfg) -> None:  # Hydra calls this once per job (many under -m)
        try:
            task(cfg)
        except UserError as exc:
            print(f"mdrl {command}: {exc}", file=sys.stderr)
            status["rc"] = 2
            if "-m" in rest or "--multirun" in rest:
                raise

    app.__module__ = task.__module__
    saved = sys.argv
    sys.argv = [f"mdrl-{command}", *rest]
    try:
        hydra.main(config_path=conf_dir(), config_name=command, version_base="1.3")(app)()
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        sys.argv = saved
    return status["rc"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
