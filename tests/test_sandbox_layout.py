"""The sandbox's child side as a set of modules: what the launcher may load, and what the
sandboxed program sees of it (nothing of the bootstrap, nothing of the project folder)."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

from mdrl.domains import sandbox_child
from mdrl.domains.sandbox import run_program

DOMAINS = Path(sandbox_child.__file__).resolve().parent


def _imports(path: Path) -> list[tuple[int, str]]:
    """(level, module) of every import statement in ``path``, function bodies included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.extend((0, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            out.append((node.level, node.module or ""))
    return out


def test_child_modules_import_only_the_stdlib_and_earlier_child_modules():
    """The launcher loads CHILD_MODULES by path, in order, outside any installed package:
    an import of anything else would fail in the child (or find a project module)."""
    loaded: list[str] = []
    for name in sandbox_child.CHILD_MODULES:
        for level, module in _imports(DOMAINS / f"{name}.py"):
            if level:
                assert level == 1 and module in loaded, f"{name} imports .{module}, not loaded before it"
            else:
                top = module.split(".")[0]
                assert top in sys.stdlib_module_names or top == "__future__", f"{name} imports {module}"
        loaded.append(name)


def test_program_sees_no_bootstrap_module_and_the_stdlib_code_module():
    """The bootstrap leaves sys.modules as the single-file bootstrap did, and ``import code``
    in the program is the standard library's (no project folder is on its path)."""
    program = (
        "import json, sys, code\n"
        "print(json.dumps({'mods': sorted(m for m in sys.modules if 'sandbox' in m or m.startswith('mdrl')),"
        " 'path': sys.path, 'console': hasattr(code, 'InteractiveConsole'),"
        " 'main': sorted(k for k in vars(sys.modules['__main__']) if not k.startswith('__'))}))\n"
    )
    res = run_program(program, timeout_s=20)
    assert res.ok, res.stderr
    seen = json.loads(res.stdout)
    assert seen["mods"] == []
    assert seen["console"] is True
    assert str(DOMAINS) not in seen["path"] and "" not in seen["path"]
    assert seen["main"] == ["code", "json", "sys"]  # a clean __main__: only what the program bound
