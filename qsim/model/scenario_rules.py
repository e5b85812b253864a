"""The checks every field uses: a number in range, a choice, a text fit to draw."""

from __future__ import annotations

import re
from typing import Any

from qsim.model.limits import RANGES
from qsim.model.scenario_errors import Where, num, show

Path = tuple[str | int, ...]
#: control characters (a tab is fine; a line break only in multi-line texts)
_CONTROL_LINE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def check_range(where: Where, path: Path, v: float, lo: float, hi: float) -> None:
    if not lo <= v <= hi:
        raise where.error(path, f"must be between {num(lo)} and {num(hi)}, got {num(v)}")


def check_field(where: Where, path: Path, section: str, obj: Any, name: str) -> None:
    """Check one numeric field against its range in ``limits.RANGES``."""
    lo, hi = RANGES[section][name]
    check_range(where, (*path, name), getattr(obj, name), lo, hi)


def choice(where: Where, path: Path, v: str, options: tuple[str, ...]) -> None:
    if v not in options:
        raise where.error(path, f"must be one of {', '.join(options)}; got {show(v)}")


def check_text(where: Where, path: Path, v: str, limit: int, multiline: bool = False) -> None:
    """A text short enough to draw, without control characters."""
    if len(v) > limit:
        raise where.error(path, f"must be at most {limit:,} characters, got {len(v):,}")
    bad = (_CONTROL_TEXT if multiline else _CONTROL_LINE).search(v)
    if bad:
        what = "a line break" if bad.group() in "\r\n\u2028\u2029" else "a control character"
        code = f"U+{ord(bad.group()):04X}"
        raise where.error(path, f"must not contain {what} ({code} at character {bad.start()})")
