"""The ``mdrl`` command: ``mdrl <command> [-m] key=value ...`` for the commands in ``COMMANDS``.

Each subcommand is a Hydra app whose primary config is ``conf/<subcommand>.yaml``, so
config groups, overrides, ``-m`` multirun and launchers all work as in any Hydra app.
Before handing over to Hydra, the overrides are composed once here so that a bad key or
value ends in one readable sentence instead of a traceback. ``mdrl <command> --help``
shows only that command's groups and settings; ``eval "$(mdrl -sc install=bash)"``
installs bash completion of commands, groups, options and keys.
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

# commands whose job checks its own config first (check_experiment), so that a refused job
# of a sweep still leaves its FAILED marker and train.log
SELF_VALIDATING = {"train", "prepare"}

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
    lines += ["", "Run 'mdrl <command> --help' for its settings, 'mdrl <command> --cfg job' for its composed config;",
              "docs/commands/<command>.md describes its inputs, outputs and files."]
    return "\n".join(lines)


def command_help(command: str) -> str:
    """Help of one command: what it does, its config file's header, its groups and settings."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import DictConfig, OmegaConf

    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=conf_dir(), version_base="1.3"):
            cfg = hydra_compose(config_name=command, return_hydra_config=True)
    finally:
        GlobalHydra.instance().clear()
    choices = {g: c for g, c in cfg.hydra.runtime.choices.items() if not g.startswith("hydra")}
    header = []
    for line in (Path(conf_dir()) / f"{command}.yaml").read_text().splitlines():
        if not line.startswith("#"):
            break
        header.append("  " + line[2:].rstrip() if line.startswith("# ") else "  " + line[1:].rstrip())
    out = [f"usage: mdrl {command} [-m] [key=value ...]", "", COMMANDS[command][1], "", *header]
    if choices:
        out += ["", "config groups (group=option; each documented in conf/<group>/):"]
        for group, chosen in sorted(choices.items()):
            opts = sorted(p.stem for p in (Path(conf_dir()) / group).glob("*.yaml") if not p.stem.startswith("_"))
            out.append(f"  {group:<11} {', '.join(opts)}  (default: {chosen})")
    out += ["", "settings (key=value):"]
    for key in cfg.keys():
        if key == "hydra" or key in choices:
            continue
        node = cfg._get_node(key)
        if isinstance(node, DictConfig):
            out.append(f"  {key}.*: {', '.join(str(k) for k in node.keys())}")
        else:
            out.append(f"  {key}={OmegaConf.to_yaml({key: node._value()}).split(': ', 1)[-1].strip()}")
    out += [
        "",
        f"docs: docs/commands/{command}.md   composed config: mdrl {command} --cfg job",
        "-m sweeps comma-separated values; Hydra's own flags: mdrl {command} --hydra-help".format(command=command),
    ]
    return "\n".join(out)


_COMPLETION = """_mdrl_complete()
{
    local word="${COMP_WORDS[COMP_CWORD]}"
    local choices
    choices=$(COMP_LINE="$COMP_LINE" COMP_POINT="$COMP_POINT" mdrl -sc query=bash 2>/dev/null)
    COMPREPLY=($(compgen -o nospace -o default -W "$choices" -- "$word"))
}
COMP_WORDBREAKS=${COMP_WORDBREAKS//=}
complete -o nospace -o default -F _mdrl_complete mdrl"""


def shell_completion(argv: list[str]) -> int:
    """``-sc install=bash`` prints the script; ``-sc query=bash`` answers it from $COMP_LINE.

    Hydra's own completion assumes one app per executable, so the first word (the
    command) is completed here and the rest is handed to that command's Hydra app.
    """
    i = next(i for i, a in enumerate(argv) if a in ("-sc", "--shell-completion"))
    action, _, shell = (argv[i + 1] if i + 1 < len(argv) else "").partition("=")
    if shell != "bash" or action not in ("install", "uninstall", "query"):
        print("mdrl: shell completion supports bash: eval \"$(mdrl -sc install=bash)\" (uninstall=bash removes it)", file=sys.stderr)
        return 2
    if action == "install":
        print(_COMPLETION)
        return 0
    if action == "uninstall":
        print("complete -r mdrl 2>/dev/null; unset -f _mdrl_complete")
        return 0
    import os

    line = os.environ.get("COMP_LINE", "")
    words = line.split()
    if len(words) < 2 or (len(words) == 2 and not line.endswith(" ")):
        print(" ".join(COMMANDS))
        return 0
    command = words[1]
    if command not in COMMANDS:
        return 0
    rest = line.split(command, 1)[1]
    # Hydra strips the first word as the app name: make it a single word
    os.environ["COMP_LINE"] = f"mdrl-{command}{rest}"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = _run_hydra(command, _load(COMMANDS[command][0]), ["-sc", "query=bash"])
    # files named _*.yaml are shared pieces of a group, not options
    print(" ".join(w for w in buf.getvalue().split() if "=_" not in w))
    return rc


def _load(target: str) -> Callable:
    mod, fn = target.split(":")
    return getattr(importlib.import_module(mod), fn)


def explain_compose_error(exc: Exception, command: str) -> str:
    """Turn Hydra/OmegaConf composition errors into one sentence."""
    typed = _explain_type_error(exc.__cause__)
    if typed:
        return typed
    msg = str(exc)
    m = re.search(r"Could not override '([^']+)'", msg) or re.search(r"Key '([^']+)' is not in struct", msg)
    if m:
        near = _keys_named(command, m.group(1).rpartition(".")[2])
        if near:
            return f"unknown config key '{m.group(1)}' for 'mdrl {command}' (did you mean {' or '.join(near)}?)"
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


def _keys_named(command: str, leaf: str) -> list[str]:
    """Keys of ``command``'s default config whose last part is ``leaf`` (``scheme`` -> ``reward.scheme``)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import DictConfig

    def walk(node, prefix: str):
        for key in node.keys():
            child = node._get_node(key)
            if str(key) == leaf:
                yield f"{prefix}{key}"
            if isinstance(child, DictConfig) and prefix.count(".") < 2:  # three levels deep is enough
                yield from walk(child, f"{prefix}{key}.")

    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=conf_dir(), version_base="1.3"):
            cfg = hydra_compose(config_name=command)
        return sorted(walk(cfg, ""))[:3]
    except Exception:  # noqa: BLE001 - a hint only; the sentence stands without it
        return []
    finally:
        GlobalHydra.instance().clear()


# OmegaConf's names of the types a typed schema field converts to, as a user reads them
_TYPE_WORDS = {"Integer": "a whole number", "Float": "a number", "Boolean": "true or false", "String": "text"}


def _explain_type_error(cause: BaseException | None) -> str | None:
    """One sentence for a value a typed schema field (mdrl/config) could not take."""
    from omegaconf.errors import ValidationError

    if not isinstance(cause, ValidationError) or not getattr(cause, "full_key", None):
        return None
    from mdrl.config.checks import field_rule

    first = str(cause).splitlines()[0]
    m = re.match(r"Value '(.*)' of type '\w+' could not be converted to (\w+)", first)
    if m:
        rule = field_rule(getattr(cause, "object_type", None), str(cause.full_key).rpartition(".")[2])
        return f"{cause.full_key} must be {rule or _TYPE_WORDS.get(m.group(2), m.group(2))}, not {m.group(1)!r}"
    if "is not Optional" in first:
        return f"{cause.full_key} must not be null"
    return f"{cause.full_key}: {first.rstrip('.')}"


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
    validate(command, cfg)
    return cfg


def validate(command: str, cfg) -> None:
    """Refuse a composed config that breaks its schemas (mdrl/config), in one sentence."""
    from mdrl.config import validate as check_schemas

    check_schemas(command, cfg)


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
    if any(a in ("-sc", "--shell-completion") for a in argv):
        return shell_completion(argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"mdrl: unknown command '{command}' (choose from {', '.join(COMMANDS)})", file=sys.stderr)
        return 2
    if any(a in ("-h", "--help") for a in rest):
        print(command_help(command))
        return 0
    try:
        task = _load(COMMANDS[command][0])
    except UserError as exc:  # e.g. an MDRL_PLUGINS module that does not exist
        print(f"mdrl {command}: {exc}", file=sys.stderr)
        return 2
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

    status: dict = {"rc": 0, "jobs": 0, "failed": []}

    def app(cfg) -> None:  # Hydra calls this once per job (many under -m)
        status["jobs"] += 1
        try:
            if command not in SELF_VALIDATING:
                validate(command, cfg)  # each job of a sweep has its own values
            task(cfg)
        except UserError as exc:
            # one sentence per failed job; the other jobs of a sweep still run (train
            # leaves FAILED in the job's folder)
            print(f"mdrl {command}: {exc}", file=sys.stderr)
            status["rc"] = 2
            status["failed"].append(_job_label())

    app.__module__ = task.__module__
    saved = sys.argv
    sys.argv = [f"mdrl-{command}", *rest]
    try:
        hydra.main(config_path=conf_dir(), config_name=command, version_base="1.3")(app)()
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        sys.argv = saved
    if status["failed"] and status["jobs"] > 1:
        print(f"mdrl {command}: {len(status['failed'])} of {status['jobs']} jobs failed: {', '.join(status['failed'])}", file=sys.stderr)
    return status["rc"]


def _job_label() -> str:
    """The running Hydra job's number and overrides, for the end-of-sweep failure list."""
    from hydra.core.hydra_config import HydraConfig

    try:
        job = HydraConfig.get().job
        return f"#{job.num} ({job.override_dirname or 'defaults'})"
    except Exception:  # noqa: BLE001 - a single run has no job number
        return "job"


def _slug(text: str) -> str:
    """A folder name from a Hydra override list: no path separators, bounded length."""
    import hashlib

    safe = re.sub(r"[^A-Za-z0-9._,=+-]+", "_", str(text)).strip("_")
    return safe if len(safe) <= 120 else f"{safe[:100]}-{hashlib.sha1(safe.encode()).hexdigest()[:8]}"


def _register_resolvers() -> None:
    from omegaconf import OmegaConf

    # conf/train.yaml names multirun job folders ${mdrl_slug:${hydra.job.override_dirname}}
    if not OmegaConf.has_resolver("mdrl_slug"):
        OmegaConf.register_new_resolver("mdrl_slug", _slug)


_register_resolvers()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
