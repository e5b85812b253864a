"""qsim runs on every Python that pyproject.toml's ``requires-python`` allows (>= 3.10).

ruff (``target-version = "py310"``) refuses newer syntax such as ``except*``;
this test refuses the newer library calls that ruff and mypy let through: a
3.11+ module, name or keyword is allowed only where a fallback guards it (a
``try`` that catches ImportError/AttributeError, an ``if sys.version_info`` or
``if hasattr``), or passed by feature detection (``**TAR_FILTER``). Debian 12's
python3 is 3.11.2: ``extractall(filter=...)`` failed there (it came in 3.11.4).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCANNED = ("qsim", "tests", "packaging")


def _since(version: str, names: str) -> dict[str, str]:
    return dict.fromkeys(names.split(), version)


# module -> what it gained after 3.10 (the version that brought it)
NEW_MODULES = {"tomllib": "3.11", "wsgiref.types": "3.11", "annotationlib": "3.14"}
NEW_NAMES: dict[str, dict[str, str]] = {
    "typing": {
        **_since(
            "3.11",
            "Self LiteralString Never assert_never assert_type reveal_type Required NotRequired"
            " TypeVarTuple Unpack dataclass_transform get_overloads clear_overloads",
        ),
        **_since("3.12", "override TypeAliasType"),
        **_since("3.13", "ReadOnly TypeIs NoDefault get_protocol_members"),
    },
    "datetime": _since("3.11", "UTC"),
    "enum": _since(
        "3.11", "StrEnum ReprEnum EnumCheck FlagBoundary verify member nonmember global_enum"
    ),
    "asyncio": _since("3.11", "TaskGroup Runner timeout Barrier"),
    "contextlib": _since("3.11", "chdir"),
    "operator": _since("3.11", "call"),
    "hashlib": _since("3.11", "file_digest"),
    "math": {**_since("3.11", "cbrt exp2"), "sumprod": "3.12", "fma": "3.13"},
    "itertools": _since("3.12", "batched"),
    "warnings": _since("3.13", "deprecated"),
    "copy": _since("3.13", "replace"),
    "ast": _since("3.11", "TryStar"),
}
# the node of `except*` (ruff refuses the syntax already; here for the parsed samples)
TRY_STAR = getattr(ast, "TryStar", ())
NEW_BUILTINS = {"ExceptionGroup": "3.11", "BaseExceptionGroup": "3.11"}
# (method, keyword) -> since when; and Path.walk (3.12): any .walk() but os's and ast's
NEW_KEYWORDS = {("extractall", "filter"): "3.11.4", ("extract", "filter"): "3.11.4"}


def _is_guard(node: ast.AST) -> bool:
    """A block whose code runs only where the newer thing exists, or that has a
    fallback when it does not."""
    if isinstance(node, ast.Try):
        caught: list[ast.expr] = []
        for h in node.handlers:
            if isinstance(h.type, ast.Tuple):
                caught.extend(h.type.elts)
            elif h.type is not None:
                caught.append(h.type)
        names = {c.id for c in caught if isinstance(c, ast.Name)}
        return bool(names & {"ImportError", "ModuleNotFoundError", "AttributeError"})
    if isinstance(node, ast.If | ast.IfExp):
        test = ast.unparse(node.test)
        return "sys.version_info" in test or "hasattr(" in test
    return False


def _problems(tree: ast.AST) -> Iterator[tuple[int, str]]:
    def visit(node: ast.AST, guarded: bool) -> Iterator[tuple[int, str]]:
        line = getattr(node, "lineno", 0)
        if not guarded:
            yield from _check(node, line)
        guarded = guarded or _is_guard(node)
        for child in ast.iter_child_nodes(node):
            yield from visit(child, guarded)

    yield from visit(tree, False)


def _check(node: ast.AST, line: int) -> Iterator[tuple[int, str]]:
    if isinstance(node, ast.Import):
        for a in node.names:
            for mod, since in NEW_MODULES.items():
                if a.name == mod or a.name.startswith(mod + "."):
                    yield line, f"import {a.name} (Python {since})"
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        if node.module in NEW_MODULES:
            yield line, f"from {node.module} import ... (Python {NEW_MODULES[node.module]})"
        for a in node.names:
            since = NEW_NAMES.get(node.module, {}).get(a.name)
            if since:
                yield line, f"from {node.module} import {a.name} (Python {since})"
    elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        since = NEW_NAMES.get(node.value.id, {}).get(node.attr)
        if since:
            yield line, f"{node.value.id}.{node.attr} (Python {since})"
    elif isinstance(node, ast.Name) and node.id in NEW_BUILTINS:
        yield line, f"{node.id} (Python {NEW_BUILTINS[node.id]})"
    elif isinstance(node, TRY_STAR):
        yield line, "except* (Python 3.11)"
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        method = node.func.attr
        for kw in node.keywords:
            since = NEW_KEYWORDS.get((method, kw.arg or ""))
            if since:
                yield line, f".{method}({kw.arg}=...) (Python {since})"
        if method == "walk" and ast.unparse(node.func.value) not in ("os", "ast"):
            yield line, ".walk() (Path.walk is Python 3.12; os.walk is not)"


def _sources() -> Iterator[Path]:
    for top in SCANNED:
        yield from sorted((REPO / top).rglob("*.py"))
    yield from sorted((REPO / "packaging").rglob("*.spec"))


def test_no_call_needs_a_python_newer_than_3_10_without_a_fallback() -> None:
    found = [
        f"{path.relative_to(REPO)}:{line}: {what}"
        for path in _sources()
        if "__pycache__" not in path.parts
        for line, what in _problems(ast.parse(path.read_text(), str(path)))
    ]
    assert found == [], "needs a newer Python than requires-python allows:\n" + "\n".join(found)


def test_the_check_finds_what_it_is_for() -> None:
    """Each kind of newer call is caught unguarded, and let through guarded."""
    bad = """
import tomllib
from typing import Self
import datetime
datetime.UTC
tar.extractall(d, filter="tar")
Path(".").walk()
raise ExceptionGroup("x", [])
"""
    assert [line for line, _ in _problems(ast.parse(bad))] == [2, 3, 5, 6, 7, 8]
    good = """
try:
    import tomllib
except ModuleNotFoundError:
    import tomli as tomllib
if sys.version_info >= (3, 11):
    from typing import Self
if hasattr(tarfile, "tar_filter"):
    tar.extractall(d, filter="tar")
tar.extractall(d, **TAR_FILTER)
os.walk(".")
ast.walk(tree)
"""
    assert list(_problems(ast.parse(good))) == []
