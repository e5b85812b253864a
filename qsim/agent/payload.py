"""What a traced put sends and what the token shows: ids and bounded reprs.

Every patched put sends ``(MARK, item_id, obj)`` and every patched get takes
the tuple apart again; an object that arrives without the mark (sent by code
that bypassed the patches) is passed on untouched. A priority queue's entry
is wrapped in ``Ranked`` instead, which compares like the object it carries,
so the queue's order is the program's own.

``short_repr`` is computed in the putting process and must cost nothing for a
big object: it never builds the full repr of a long str/bytes or a large
container (a 1 MB bytes object costs what a short one does).
"""

from __future__ import annotations

from typing import Any

from qsim.agent.protocol import MARK

#: characters of a repr kept (the token shows ~16, the tooltip all of these)
REPR_MAX = 200
_SCALARS = (int, float, bool, complex, type(None))
_ELLIPSIS = "..."


class Ranked:
    """A priority queue entry: orders as the object it wraps (heapq uses ``<``)."""

    __slots__ = ("item", "obj")

    def __init__(self, item: int, obj: Any) -> None:
        self.item = item
        self.obj = obj

    def __lt__(self, other: Any) -> bool:
        return bool(self.obj < (other.obj if isinstance(other, Ranked) else other))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Ranked, (self.item, self.obj))


def wrap(item: int, obj: Any) -> tuple[int, int, Any]:
    return (MARK, item, obj)


def unwrap(x: Any) -> tuple[int, Any]:
    """``(item_id, obj)``; item 0 for an object that came unwrapped."""
    if type(x) is tuple and len(x) == 3 and type(x[0]) is int and x[0] == MARK:
        return x[1], x[2]
    if type(x) is Ranked:
        return x.item, x.obj
    return 0, x


def priority_of(obj: Any) -> int:
    """The number a ``(priority, ...)`` entry sorts by, if it is a small int."""
    p = obj[0] if type(obj) is tuple and obj else obj
    if type(p) is int and -(2**31) <= p < 2**31:
        return p
    if type(p) is float and -(2**31) <= p < 2**31:
        return int(p)
    return 0


def short_repr(obj: Any, limit: int = REPR_MAX) -> str:
    """A repr of at most ``limit`` characters, never built from a huge object."""
    t = type(obj)
    if t in _SCALARS or (t is tuple and len(obj) <= 4 and _flat(obj)):
        r = repr(obj)
    elif t is str or t is bytes or t is bytearray:
        r = repr(obj if len(obj) <= limit else obj[:limit])
    elif t is tuple or t is list or t is set or t is frozenset or t is dict:
        r = _container(obj, limit)
    elif t is memoryview:
        r = f"<memoryview {obj.nbytes} bytes>"
    else:
        r = _other(obj, limit)
    return r if len(r) <= limit else r[: limit - len(_ELLIPSIS)] + _ELLIPSIS


def _flat(obj: tuple[Any, ...]) -> bool:
    """Only scalars and short strings: its full repr is short and cheap."""
    for x in obj:  # noqa: SIM110  (a loop: all() with a generator costs twice as much)
        if type(x) not in _SCALARS and (type(x) is not str or len(x) > 40):
            return False
    return True


def _container(obj: Any, limit: int) -> str:
    t = type(obj)
    parts: list[str] = []
    size = 2
    items = obj.items() if t is dict else obj
    for n, x in enumerate(items):
        if size > limit or n >= 32:
            parts.append(_ELLIPSIS)
            break
        if t is dict:
            s = f"{short_repr(x[0], limit // 2)}: {short_repr(x[1], limit // 2)}"
        else:
            s = short_repr(x, limit // 2)
        parts.append(s)
        size += len(s) + 2
    body = ", ".join(parts)
    if t is tuple:
        return f"({body},)" if len(obj) == 1 else f"({body})"
    if t is list:
        return f"[{body}]"
    if t is dict:
        return "{" + body + "}"
    if not obj:
        return f"{t.__name__}()"
    return "{" + body + "}" if t is set else f"frozenset({{{body}}})"


def _other(obj: Any, limit: int) -> str:
    t = type(obj)
    shape = getattr(obj, "shape", None)
    if t.__module__ == "numpy" and isinstance(shape, tuple) and len(shape) > 0:
        return f"<{t.__name__} shape={shape} dtype={getattr(obj, 'dtype', '?')}>"
    try:
        return repr(obj)  # the program's own __repr__: trusted to be sane
    except Exception as e:  # any user __repr__ may fail: the token must not
        return f"<{t.__name__} (repr failed: {type(e).__name__})>"
