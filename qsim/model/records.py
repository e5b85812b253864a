"""Decoding event batches in bulk (numpy), for the collector and recordings.

The records' layout is ``qsim.model.wire``'s; here it becomes a numpy
structured dtype whose *field order* is the ``Event`` tuple order, so that
``array.tolist()`` gives the reducer its tuples in one C loop.
"""

from __future__ import annotations

import numpy as np

from qsim.model.events import Event
from qsim.model.wire import RECORD_FIELDS, RECORD_SIZE, VT_STR, split_message

RECORD_DTYPE = np.dtype(
    {
        "names": [f[0] for f in RECORD_FIELDS],
        "formats": [f[1] for f in RECORD_FIELDS],
        "offsets": [f[2] for f in RECORD_FIELDS],
        "itemsize": RECORD_SIZE,
    }
)

#: tuple positions (the same as ``qsim.model.events``'s T, SEQ, ... plus these)
AUX, VTYPE, FLAGS = 7, 8, 9


class StringTable:
    """Every string of a run (error texts, payload reprs), one index each."""

    def __init__(self) -> None:
        self.strings: list[str] = []

    def __len__(self) -> int:
        return len(self.strings)

    def __getitem__(self, i: int) -> str:
        return self.strings[i]

    def extend(self, strings: list[str]) -> int:
        """Add a batch's strings; returns the index of the first."""
        base = len(self.strings)
        self.strings.extend(strings)
        return base


def decode(msg: bytes | bytearray | memoryview, table: StringTable) -> np.ndarray:
    """One batch message -> a writable record array with run-wide string indexes.

    Raises ``ValueError`` for a torn or foreign message.
    """
    seq, n, actor, offset, strings = split_message(msg)
    arr = np.frombuffer(msg, dtype=RECORD_DTYPE, count=n, offset=offset).copy()
    arr["actor"] = actor
    arr["seq"] = np.arange(seq, seq + n, dtype=np.uint32)
    if strings:
        base = table.extend(strings)
        is_str = arr["vtype"] == VT_STR
        if is_str.any():
            arr["value"][is_str] += base
    return arr


def to_events(arr: np.ndarray, table: StringTable) -> list[Event]:
    """Records -> ``Event`` tuples; a string value becomes its text."""
    rows: list[Event] = arr.tolist()
    vtype = arr["vtype"]
    if len(vtype) and vtype.max() == VT_STR:
        strings = table.strings
        for i in np.flatnonzero(vtype == VT_STR).tolist():
            r = rows[i]
            rows[i] = (*r[:6], strings[r[6]], *r[7:])  # type: ignore[index]
    return rows


def from_events(events: list[Event], table: StringTable) -> np.ndarray:
    """``Event`` tuples -> records (strings go to ``table``): the inverse of ``to_events``."""
    arr = np.zeros(len(events), dtype=RECORD_DTYPE)
    if not events:
        return arr
    rows: list[Event] = []
    for e in events:
        v = e[6]
        if isinstance(v, str):
            rows.append((*e[:6], table.extend([v]), e[7], VT_STR, e[9]))
        else:
            rows.append(e)
    arr[:] = rows
    return arr
