"""Refuse TOML shapes that would exhaust ``tomllib`` before it reads them.

``tomllib`` is recursive (a few hundred nested ``[`` or ``{`` overflow
Python's stack) and needs memory quadratic in the parts of one dotted key
(``a.a.a...`` with 8,000 parts: 266 MB; 200,000 parts: killed by the OOM
killer). A scenario needs neither: this scan counts nesting, key parts and
table headers in the raw text, skipping strings and comments as TOML does,
and stops at the first thing it does not understand (``tomllib`` then
reports that place itself).
"""

from __future__ import annotations

import re

from qsim.model.limits import MAX_KEY_PARTS, MAX_NESTING, MAX_TABLES

_TOKEN = re.compile(
    r'''
      (?P<mlb>"""(?:[^"\\]|\\.|"(?!""))*"{3,5})
    | (?P<mll>\'\'\'(?:[^']|'(?!''))*'{3,5})
    | (?P<unclosed>"""|\'\'\')
    | (?P<basic>"(?:[^"\\\n]|\\[^\n])*")
    | (?P<lit>'[^'\n]*')
    | (?P<comment>\#[^\n]*)
    | (?P<punct>[\[\]{}=,.\n])
    | (?P<other>[^"'\#\[\]{}=,.\n]+)
    ''',
    re.VERBOSE | re.DOTALL,
)


class TomlShapeError(Exception):
    """The text nests too deeply, has too long a key or too many tables."""

    def __init__(self, line: int, why: str) -> None:
        super().__init__(why)
        self.line = line
        self.why = why


def check_shape(text: str) -> None:
    """Raise ``TomlShapeError`` (with the line) for a shape beyond the limits."""
    stack: list[str] = []  # "h" a [header], "a" an array, "t" an inline table
    key_mode = True  # at a key (line start, after "{" or a "," in an inline table)
    parts = 1
    tables = 0
    line = 1
    pos, end = 0, len(text)
    while pos < end:
        m = _TOKEN.match(text, pos)
        if m is None or m.lastgroup == "unclosed":
            return  # e.g. an unterminated string: tomllib says where
        kind, tok, pos = m.lastgroup, m.group(), m.end()
        if kind in ("mlb", "mll"):
            line += tok.count("\n")
        if kind != "punct":
            continue
        if tok == "\n":
            line += 1
            if not stack:
                key_mode, parts = True, 1
        elif tok == "[":
            if key_mode and not stack:  # a [table] or [[array of tables]] header
                tables += 1
                if tables > MAX_TABLES:
                    raise TomlShapeError(line, f"more than {MAX_TABLES} tables")
                stack.append("h")
                if text.startswith("[", pos):
                    pos += 1
                continue
            stack.append("a")
            key_mode = False
        elif tok == "{":
            stack.append("t")
            key_mode, parts = True, 1
        elif tok in "]}":
            if not stack:
                return
            if stack.pop() == "h" and text.startswith("]", pos):
                pos += 1
            key_mode = False
        elif tok == "=":
            key_mode = False
        elif tok == ",":
            if stack and stack[-1] == "t":
                key_mode, parts = True, 1
        elif tok == "." and key_mode:
            parts += 1
            if parts > MAX_KEY_PARTS:
                raise TomlShapeError(line, f"a dotted key with more than {MAX_KEY_PARTS} parts")
        depth = len(stack) - (1 if stack and stack[0] == "h" else 0)
        if depth > MAX_NESTING:
            raise TomlShapeError(line, f"values nested more than {MAX_NESTING} levels deep")
