"""Import contract: ``qsim.model``, ``qsim.engine`` and ``qsim.record`` never reach Qt.

Workers import the engine; under ``spawn`` every worker re-imports it, and a
Qt import there costs each worker seconds (and drags a GUI library into a
headless run). Checked twice: in the source (any ``import``, even one inside
a function), and for real, by importing every module in a fresh interpreter.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
QT_BLOCKED = ("PySide6", "pyqtgraph", "shiboken6", "shiboken")
LAYERS = ("model", "engine", "record")
# imported by every spawned worker or by the headless CLI: Qt only lazily
ENTRY_MODULES = ["qsim", "qsim.__main__", "qsim.cli", "qsim.resources"]


def _modules(layer: str) -> list[Path]:
    return sorted((REPO / "qsim" / layer).rglob("*.py"))


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))
            and getattr(node.func, "id", getattr(node.func, "attr", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def test_layers_have_modules() -> None:
    for layer in LAYERS:
        assert _modules(layer), f"qsim/{layer} has no modules: is the checkout complete?"


@pytest.mark.parametrize("layer", LAYERS)
def test_source_never_imports_qt(layer: str) -> None:
    bad = []
    for path in _modules(layer):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, name in _imported(tree):
            if name.split(".")[0] in QT_BLOCKED:
                bad.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    assert not bad, "Qt below the UI layer:\n" + "\n".join(bad)


# what the agent may import from qsim: it runs inside user programs (stdlib only)
AGENT_MAY_IMPORT = ("qsim.agent", "qsim.model.wire", "qsim.model.events")


def test_agent_imports_only_the_stdlib_and_the_event_format() -> None:
    bad = []
    for path in _modules("agent"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, name in _imported(tree):
            top = name.split(".")[0]
            if top == "qsim":
                ok = name == "qsim" or name.startswith(AGENT_MAY_IMPORT)
            else:
                ok = top in sys.stdlib_module_names or top == "__future__"
            if not ok:
                bad.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    assert not bad, "qsim/agent must stay stdlib only:\n" + "\n".join(bad)


def test_importing_the_agent_loads_only_the_stdlib() -> None:
    names = [_module_name(p) for p in _modules("agent") if p.name != "__main__.py"]
    # only what the agent's import added: Python's start-up may load more
    # (Debian's python3 imports its sitecustomize)
    code = (
        "import importlib, json, sys\n"
        "before = set(sys.modules)\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    foreign = [
        m
        for m in loaded
        if m.split(".")[0] not in sys.stdlib_module_names
        and not m.startswith("_")
        and m not in ("qsim", "qsim.model", "qsim.agent")
        and not m.startswith(AGENT_MAY_IMPORT)
    ]
    assert foreign == [], f"importing the agent loaded {foreign}"


def test_importing_model_engine_and_cli_loads_no_qt() -> None:
    names = ENTRY_MODULES + [_module_name(p) for layer in LAYERS for p in _modules(layer)]
    code = (
        "import importlib, json, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {QT_BLOCKED!r})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == [], f"importing {', '.join(names)} loaded {loaded}"
