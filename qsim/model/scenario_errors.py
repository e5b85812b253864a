"""``ScenarioError`` and its messages: one line, in TOML's words, never huge.

A message names the file, the line (when it can be found) and the field, and
shows the offending value the way it is written in TOML (``true``, not
``True``; ``1000000000000``, not ``1e+12``), cut short if it is long: a
hostile file must not turn its error box into a megabyte of text.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping
from typing import Any

#: characters of one value (or one key) quoted in a message
SHOWN_CHARS = 40
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class ScenarioError(ValueError):
    """A scenario file (or a value for it) is not valid; the message says where and why."""


def _escape(s: str) -> str:
    """TOML basic-string escapes for what would break a one-line message."""
    s = s.replace("\\", "\\\\").replace('"', '\\"')
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", s)


def short(s: str, limit: int = SHOWN_CHARS) -> str:
    """``s`` on one line, at most ``limit`` characters (then ``…`` and its length)."""
    if len(s) > limit:
        return _escape(s[:limit]) + f"… ({len(s):,} characters)"
    return _escape(s)


def num(v: float) -> str:
    """A number as TOML writes it: whole numbers in full, never ``1e+12``."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    return repr(v)


def show(v: Any) -> str:
    """A value as it would be written in TOML, shortened for a message."""
    if isinstance(v, str):
        return f'"{short(v)}"'
    if isinstance(v, bool | int | float):
        return num(v)
    if isinstance(v, list):
        # one level only: a deeply nested value must not recurse here
        parts = [
            "[…]" if isinstance(x, list) else "{…}" if isinstance(x, Mapping) else show(x)
            for x in v[:5]
        ]
        more = f", … ({len(v)} entries)" if len(v) > 5 else ""
        return "[" + ", ".join(parts) + more + "]"
    if isinstance(v, Mapping):
        return "a table"
    if isinstance(v, datetime.date | datetime.time):  # datetime is a date
        return v.isoformat()
    return f"a value of another kind ({type(v).__name__})"


def key_text(k: str | int) -> str:
    """One part of a field path, for a message."""
    if isinstance(k, int):
        return str(k)
    if re.fullmatch(r"[A-Za-z0-9_*-]{1,40}", k):
        return k
    return f'"{short(k)}"'


class Where:
    """Turns a field path into ``file, line N (path)`` for messages."""

    def __init__(self, source: str, text: str) -> None:
        self.source = short(source, 200)
        self.lines = text.splitlines()

    def line_of(self, path: tuple[str | int, ...]) -> int | None:
        start, end = 0, len(self.lines)
        i = 0
        table_line: int | None = None  # the line of the innermost table found
        # walk [table] / [[array]] headers for the leading part of the path
        while i < len(path) and isinstance(path[i], str):
            name = str(path[i])
            nth = path[i + 1] if i + 1 < len(path) and isinstance(path[i + 1], int) else None
            header = re.compile(
                rf"^\s*\[\[\s*{re.escape(name)}\s*\]\]"
                if nth is not None
                else rf"^\s*\[\s*{re.escape(name)}\s*\]"
            )
            hits = [n for n in range(start, end) if header.match(self.lines[n])]
            k = nth if isinstance(nth, int) else 0
            if k >= len(hits):
                break
            start = hits[k] + 1
            table_line = start
            end = next(
                (
                    n
                    for n in range(start, len(self.lines))
                    if self.lines[n].lstrip().startswith("[")
                ),
                len(self.lines),
            )
            i += 2 if nth is not None else 1
            if i == len(path):
                return start  # the header line itself (1-based = start)
            if i == len(path) - 1:
                break
        if i < len(path):
            key = re.compile(rf"^\s*{re.escape(str(path[i]))}\s*=")
            for n in range(start, end):
                if key.match(self.lines[n]):
                    return n + 1
        return table_line  # a field not written in its table: the table's line

    def at_line(self, line: int | None, why: str) -> ScenarioError:
        place = self.source if line is None else f"{self.source}, line {line}"
        return ScenarioError(f"{place}: {why}")

    def error(self, path: tuple[str | int, ...], why: str) -> ScenarioError:
        dotted = ""
        for p in path:
            dotted += (
                f"[{p}]" if isinstance(p, int) else (f".{key_text(p)}" if dotted else key_text(p))
            )
        line = self.line_of(path) if path else None
        place = self.source
        if line is not None:
            place += f", line {line}"
        if dotted:
            place += f" ({dotted})"
        return ScenarioError(f"{place}: {why}")
