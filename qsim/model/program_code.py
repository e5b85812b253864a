"""The code a program lesson's text shows, read from the program itself.

A lesson text (``NN-id.md``) never copies its program: a line that is only
``{{code}}`` becomes the whole program as a Python code block, and
``{{code:producer,consumer}}`` becomes the named parts of it, in that order,
exactly as they are in the file. A part is a top-level statement of the
program, named by

* the name it defines: ``def producer``, ``class QueueManager``,
  ``RECORDS = [...]``;
* the call it makes: ``QueueManager.register(...)`` is ``QueueManager.register``;
* ``__main__``: the ``if __name__ == "__main__":`` block,

together with the comment lines right above it. So the text and the program
cannot drift apart: an unknown name is an error when the lesson is loaded.
"""

from __future__ import annotations

import ast
import re

#: a marker line: ``{{code}}`` or ``{{code:name,name}}``
MARKER = re.compile(r"^[ \t]*\{\{code(?::([^}\n]*))?\}\}[ \t]*$", re.MULTILINE)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")


class CodeError(ValueError):
    """A marker names no part of the program (or the program is not Python)."""

    def __init__(self, line: int, why: str) -> None:
        super().__init__(why)
        self.line = line
        self.why = why


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else ""
    return ""


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    t = node.test
    sides = [t.left, *t.comparators]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    consts = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(sides) == 2 and bool(names) and bool(consts)


def _names(node: ast.stmt) -> list[str]:
    """The names a top-level statement may be shown by."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        name = _dotted(node.value.func)
        return [name] if name else []
    if _is_main_guard(node):
        return ["__main__"]
    return []


def parts(source: str) -> dict[str, tuple[int, int]]:
    """Every named top-level part: ``name -> (first line, last line)``, 1-based,
    the first line taking in the comment lines right above it.

    Raises ``CodeError`` if ``source`` is not valid Python.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise CodeError(e.lineno or 0, f"the program is not valid Python: {e.msg}") from None
    except (ValueError, RecursionError, MemoryError) as e:  # NUL bytes, absurd nesting
        raise CodeError(0, f"the program cannot be read as Python: {type(e).__name__}") from None
    lines = source.splitlines()
    out: dict[str, tuple[int, int]] = {}
    for node in tree.body:
        first = node.lineno
        decorators = getattr(node, "decorator_list", [])
        if decorators:
            first = min(first, *(d.lineno for d in decorators))
        while first > 1 and lines[first - 2].lstrip().startswith("#"):
            first -= 1
        last = node.end_lineno or node.lineno
        for name in _names(node):
            out.setdefault(name, (first, last))
    return out


def render(text: str, source: str) -> str:
    """``text`` with every marker line replaced by a Python code block of ``source``.

    Raises ``CodeError`` (with the text's line) for a marker naming no part.
    """
    lines = source.splitlines()
    known: dict[str, tuple[int, int]] | None = None

    def block(m: re.Match[str]) -> str:
        nonlocal known
        line = text.count("\n", 0, m.start()) + 1
        if m.group(1) is None:
            body = source.rstrip("\n")
        else:
            names = [n.strip() for n in m.group(1).split(",")]
            if known is None:
                try:
                    known = parts(source)
                except CodeError as e:
                    raise CodeError(line, e.why) from None
            chunks = []
            for name in names:
                if not _NAME.fullmatch(name) or name not in known:
                    have = ", ".join(sorted(known)) or "none"
                    raise CodeError(
                        line,
                        f"{{{{code:{m.group(1)[:80]}}}}}: the program has no part "
                        f"named {name[:40]!r} (it has: {have[:300]})",
                    )
                first, last = known[name]
                chunks.append("\n".join(lines[first - 1 : last]))
            body = "\n\n".join(chunks)
        return f"```python\n{body}\n```"

    return MARKER.sub(block, text)


def code_blocks(text: str) -> list[str]:
    """The Python code blocks of a (rendered) lesson text, for checks."""
    return re.findall(r"```python\n(.*?)\n```", text, re.S)
