"""Named, picklable item transforms that pipeline stages apply.

They live in the model (pure functions, no processes) so that the lessons'
expected results can be tested without running anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: category names the ``analyse`` stage counts, as the tutorial words them
CATEGORIES = {"user": "user_action", "system": "system_event", "error": "error"}


def parse(record: Any) -> Any:
    """``"user:alice:login"`` -> ``("user", "alice", "login")``."""
    if not isinstance(record, str):
        raise ValueError(f"parse expects a text record, got {type(record).__name__}")
    kind, _, rest = record.partition(":")
    who, _, what = rest.partition(":")
    if not kind or not who:
        raise ValueError(f"malformed record {record!r}")
    return (kind.strip().lower(), who.strip(), what.strip())


def analyse(parsed: Any) -> Any:
    """A parsed record -> its category (``user_action``, ``system_event``, ``error``)."""
    if not isinstance(parsed, tuple) or not parsed:
        raise ValueError(f"analyse expects a parsed record, got {parsed!r}")
    return CATEGORIES.get(parsed[0], "other")


def identity(x: Any) -> Any:
    return x


TRANSFORMS: dict[str, Callable[[Any], Any]] = {
    "parse": parse,
    "analyse": analyse,
    "identity": identity,
}
