"""The one event format: fixed-width binary records, sent in batches.

Every process that reports events (qsim's scenario workers, and the agent in
the processes of a traced program) writes the same records; the collector, the
reducer and recordings read the same records. Stdlib only: the agent imports
this module into user programs.

A record is 40 bytes, little-endian (``RECORD_DTYPE_SPEC`` names the fields
and their offsets for numpy; ``qsim.model.records`` decodes with it)::

    offset  field   type    what
     0      t       int64   time.monotonic_ns() in the writing process
     8      item    int64   item id (0: none)
    16      value   int64   a small integer, or a string-table index (vtype 2)
    24      aux     int32   a second small integer (priority of a put, bytes...)
    28      queue   int16   queue index (-1: none)
    30      kind    uint16  an EventKind
    32      vtype   uint8   how to read ``value``: 0 none, 1 int, 2 string
    33      flags   uint8   FLAG_* bits
    34      actor   int16   actor index (filled in from the batch header)
    36      seq     uint32  per-process sequence number (from the batch header)

The writer packs only the first 34 bytes of each record: actor and seq are the
same (or consecutive) for a whole batch, so they travel once, in the header,
and the reader fills them in. A batch (one message on a worker's pipe)::

    header  <IIhHI : first seq, record count, actor, 0, string count
    records count x 40 bytes
    strings string count x (<I byte length + UTF-8 bytes)

Strings (error texts, payload reprs) never sit in a record: a record holds the
index of its string in its batch's string list; the reader moves the strings
to a run-wide table and rewrites the index.
"""

from __future__ import annotations

import struct
import sys
import time
from array import array
from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

RECORD_SIZE = 40
#: the part of a record a writer packs (t, item, value, aux, queue, kind, vtype|flags<<8)
PACKED = "qqqihHH6x"
HEADER = struct.Struct("<IIhHI")
HEADER_SIZE = HEADER.size
STRLEN = struct.Struct("<I")
VT_NONE, VT_INT, VT_STR = 0, 1, 2
#: GET_DONE: the item was consumed at once (no work phase, no WORK_END follows)
FLAG_CONSUMED = 1
#: GET_DONE: and task_done() was called for it at once (no TASK_DONE follows)
FLAG_TASK_DONE = 2
MAX_BATCH = 256  # a writer sends at least this often (a measuring lane: 8 times this)
MAX_RECORDS = 1 << 16  # a reader refuses bigger batches (a corrupt header)
MAX_STRING = 2000  # characters kept of one string (an error text, a repr)

#: (name, numpy type, offset): tuple order is the ``Event`` order
#: (t, seq, actor, kind, item, queue, value, aux, vtype, flags)
RECORD_FIELDS: tuple[tuple[str, str, int], ...] = (
    ("t", "<i8", 0),
    ("seq", "<u4", 36),
    ("actor", "<i2", 34),
    ("kind", "<u2", 30),
    ("item", "<i8", 8),
    ("queue", "<i2", 28),
    ("value", "<i8", 16),
    ("aux", "<i4", 24),
    ("vtype", "u1", 32),
    ("flags", "u1", 33),
)

_packers: dict[int, Callable[..., None]] = {}


def _packer(n: int) -> Callable[..., None]:
    """``pack_into`` for ``n`` records at once (one call per batch, not per event)."""
    p = _packers.get(n)
    if p is None:
        p = _packers[n] = struct.Struct("<" + PACKED * n).pack_into
    return p


_now = time.monotonic_ns
#: a record as five int64 words (little-endian hosts: the wire's byte order)
WORDS = RECORD_SIZE // 8
#: records ``EventBuffer.add_run`` packs at once at most
MAX_RUN = MAX_BATCH
RUNS_FAST = sys.byteorder == "little"
_ints: dict[int, Callable[..., None]] = {}


def _int_packer(n: int) -> Callable[..., None]:
    """``pack_into`` for ``n`` native int64s at once."""
    p = _ints.get(n)
    if p is None:
        p = _ints[n] = struct.Struct(f"={n}q").pack_into
    return p


class EventBuffer:
    """A worker's unsent events, packed into one reusable buffer per batch.

    ``add`` is the hot path: it appends a small tuple (cheaper than packing
    each event), and ``take`` packs the whole batch with one ``struct`` call.
    """

    __slots__ = (
        "_buf",
        "_packed",
        "_runs",
        "_scratch",
        "_view",
        "actor",
        "pending",
        "seq",
        "strings",
    )

    def __init__(self, actor: int) -> None:
        self.actor = actor
        self.seq = 0  # sequence number of the next event to send
        #: (t, item, value, aux, queue, kind, vtype | flags << 8)
        self.pending: list[tuple[int, int, int, int, int, int, int]] = []
        self.strings: list[str] = []
        self._buf = bytearray(HEADER_SIZE + MAX_BATCH * RECORD_SIZE)
        self._view = memoryview(self._buf)
        #: records packed already (``add_run``), in order, before ``pending``
        self._packed = bytearray()
        #: per (value, aux, queue, kind, vtype|flags): MAX_RUN records' words
        #: with every field but t and item filled in
        self._runs: dict[tuple[int, int, int, int, int], array[int]] = {}
        self._scratch = array("q", bytes(8 * MAX_RUN))

    def add(
        self,
        kind: int,
        item: int = 0,
        queue: int = -1,
        value: object = None,
        aux: int = 0,
        flags: int = 0,
        at: int = 0,
    ) -> int:
        """Append one event, at time ``at`` (0: now); returns its time."""
        t = at or _now()
        if value is None:
            v, vt = 0, VT_NONE
        elif type(value) is int:
            v, vt = value, VT_INT
        elif isinstance(value, str):
            v, vt = len(self.strings), VT_STR
            self.strings.append(value[:MAX_STRING])
        else:  # bool, float, anything else: an int if it is one, else its text
            try:
                v, vt = int(value), VT_INT  # type: ignore[call-overload]
                if v != value:
                    raise ValueError
            except (TypeError, ValueError, OverflowError):
                v, vt = len(self.strings), VT_STR
                self.strings.append(str(value)[:MAX_STRING])
        self.pending.append((t, item, v, aux, queue, kind, vt | flags << 8))
        return t

    def add_run(
        self, times: list[int], first: int, value: int, aux: int, queue: int, kind: int, vf: int
    ) -> None:
        """One record per time in ``times`` (at most ``MAX_RUN``), of items
        ``first``, ``first + 1``... and the same other fields: the same records
        as that many ``pending`` tuples, packed at once (a flat-out producer's
        PUT_DONEs: a tuple and its packing cost more than the put they report)."""
        n = len(times)
        if not n:
            return
        if not RUNS_FAST:
            items = range(first, first + n)
            self.pending.extend(
                (t, i, value, aux, queue, kind, vf) for t, i in zip(times, items, strict=True)
            )
            return
        items = range(first, first + n)
        self._pack_columns((value, aux, queue, kind, vf), ((times, 0), (items, 1)))

    def add_columns(
        self,
        times: list[int],
        items: list[int],
        values: list[int],
        queue: int,
        kind: int,
        vf: int,
    ) -> None:
        """One record per entry of the three equal-length columns (aux 0), the
        same records as that many ``pending`` tuples, packed column by column
        (a watched queue's feeder writes: noted as columns by the feeder)."""
        if not RUNS_FAST:
            self.pending.extend(
                (t, i, v, 0, queue, kind, vf) for t, i, v in zip(times, items, values, strict=True)
            )
            return
        self._pack_columns((0, 0, queue, kind, vf), ((times, 0), (items, 1), (values, 2)))

    def _pack_columns(
        self,
        key: tuple[int, int, int, int, int],
        columns: tuple[tuple[Sequence[int], int], ...],
    ) -> None:
        """Records whose fields ``key`` (value, aux, queue, kind, vtype|flags)
        are the same for all, but for the ``columns`` (values, their word in
        the record: 0 t, 1 item, 2 value): packed into a template, a column at
        a time, after what is pending (it came first)."""
        if self.pending:
            self._pack_pending()
        words = self._runs.get(key)
        if words is None:
            one = struct.pack("<" + PACKED, 0, 0, *key)
            words = self._runs[key] = array("q", one * MAX_RUN)
        scratch, n = self._scratch, len(columns[0][0])
        for k in range(0, n, MAX_RUN):
            m = min(MAX_RUN, n - k)
            pack, end = _int_packer(m), WORDS * m
            for col, field in columns:
                pack(scratch, 0, *col[k : k + m])
                words[field:end:WORDS] = scratch[:m]
            self._packed += memoryview(words)[:end].cast("B")

    def _pack_pending(self) -> None:
        """Move ``pending`` into ``_packed``."""
        pending, n = self.pending, len(self.pending)
        start = len(self._packed)
        self._packed += bytes(n * RECORD_SIZE)
        for k in range(0, n, MAX_BATCH):
            part = pending[k : k + MAX_BATCH]
            _packer(len(part))(self._packed, start + k * RECORD_SIZE, *chain.from_iterable(part))
        pending.clear()

    def take(self) -> memoryview:
        """The batch message for everything pending; the buffer is then empty.

        The view is valid until the next ``take``: send it before that.
        """
        pending, strings, packed = self.pending, self.strings, self._packed
        n0 = len(packed) // RECORD_SIZE
        n, ns = n0 + len(pending), len(strings)
        end = HEADER_SIZE + n * RECORD_SIZE
        if end > len(self._buf):  # a writer that let more than MAX_BATCH pile up
            self._buf = bytearray(end)
            self._view = memoryview(self._buf)
        HEADER.pack_into(self._buf, 0, self.seq, n, self.actor, 0, ns)
        if n0:
            self._buf[HEADER_SIZE : HEADER_SIZE + len(packed)] = packed
            packed.clear()
        for k in range(0, n - n0, MAX_BATCH):  # one struct call per MAX_BATCH records
            part = pending[k : k + MAX_BATCH]
            off = HEADER_SIZE + (n0 + k) * RECORD_SIZE
            _packer(len(part))(self._buf, off, *chain.from_iterable(part))
        self.seq += n
        pending.clear()  # in place: a writer may hold ``pending.append``
        if not ns:
            return self._view[:end]
        self.strings = []
        blob = bytearray(self._view[:end])
        for s in strings:
            b = s.encode("utf-8", "replace")
            blob += STRLEN.pack(len(b))
            blob += b
        return memoryview(blob)

    def __len__(self) -> int:
        return len(self.pending) + len(self._packed) // RECORD_SIZE


def split_message(msg: bytes | bytearray | memoryview) -> tuple[int, int, int, int, list[str]]:
    """``(first_seq, count, actor, records_offset, strings)`` of one batch message.

    Raises ``ValueError`` for a message that is not a whole batch (a torn write).
    """
    if len(msg) < HEADER_SIZE:
        raise ValueError(f"event batch of {len(msg)} bytes: shorter than its header")
    seq, n, actor, _zero, ns = HEADER.unpack_from(msg, 0)
    end = HEADER_SIZE + n * RECORD_SIZE
    if n > MAX_RECORDS or len(msg) < end:
        raise ValueError(f"event batch torn: {len(msg)} bytes for {n} records")
    strings: list[str] = []
    pos = end
    for _ in range(ns):
        if pos + 4 > len(msg):
            raise ValueError("event batch torn inside its strings")
        (size,) = STRLEN.unpack_from(msg, pos)
        pos += 4
        if pos + size > len(msg):
            raise ValueError("event batch torn inside its strings")
        strings.append(bytes(msg[pos : pos + size]).decode("utf-8", "replace"))
        pos += size
    return seq, n, actor, HEADER_SIZE, strings


def count_records(msg: bytes | bytearray | memoryview) -> int:
    """How many records a batch message holds (0 if it is too short to say)."""
    return HEADER.unpack_from(msg, 0)[1] if len(msg) >= HEADER_SIZE else 0


def encode_events(actor: int, first_seq: int, events: list[tuple[Any, ...]]) -> bytes:
    """A batch message from ``(kind, item, queue, value, aux, flags)`` tuples, time now.

    For events made outside a worker (a crash the controller saw, a hang) and tests.
    """
    buf = EventBuffer(actor)
    buf.seq = first_seq
    for kind, item, queue, value, aux, flags in events:
        buf.add(kind, item, queue, value, aux, flags)
    return bytes(buf.take())
