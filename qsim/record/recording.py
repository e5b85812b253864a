"""Opening a ``.qrec`` file: every size and offset checked before anything is read.

A recording may be corrupt, cut short, someone else's file, or a symlink to
``/dev/zero``; each gives one ``RecordingError`` naming the file and what is
wrong, and nothing is read beyond what the preamble says and the file holds.
The records are memory-mapped (10M rows open in milliseconds); the strings
and snapshots are read only when asked for.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable
from pathlib import Path
from tokenize import TokenError
from typing import IO

import numpy as np

from qsim.model.events import Event
from qsim.model.records import RECORD_DTYPE
from qsim.model.traced import MAX_TRACED_INDEX
from qsim.model.wire import MAX_STRING, RECORD_SIZE, VT_STR
from qsim.record.format import (
    DATA_OFFSET,
    MAGIC,
    NPY_HEADER_SIZE,
    PREAMBLE,
    PREAMBLE_SIZE,
    RECORDS_OFFSET,
    SNAP_ENTRY,
    U64,
    VERSION,
    WIRE_DTYPE,
    RecordingError,
)
from qsim.record.meta import MAX_META_BYTES, Meta, parse_meta
from qsim.record.program import check_grown, check_growth, growth

_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in after the stat must not block
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_BINARY", 0)
)
MAX_STRING_BYTES = 4 * MAX_STRING + 16  # UTF-8: at most 4 bytes a character
#: a record's fields must stay within what the topology has (checked per chunk)
_KIND_LIMIT = 100
T_LIMIT = 1 << 62


class Strings:
    """A string table read lazily from a file region: ``table[i]`` decodes string ``i``."""

    def __init__(
        self, name: str, count: int, offsets: np.ndarray, read: Callable[[int, int], bytes]
    ):
        self.name = name
        self._count = count
        self._offsets = offsets  # count + 1 u64, memory-mapped or in memory
        self._read = read  # (offset in the blob, size) -> bytes
        self._cache: dict[int, str] = {}

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, i: int) -> str:
        s = self._cache.get(i)
        if s is not None:
            return s
        if not 0 <= i < self._count:
            raise RecordingError(f"{self.name}: string {i} is not in its table of {self._count}")
        lo, hi = int(self._offsets[i]), int(self._offsets[i + 1])
        if not 0 <= lo <= hi or hi - lo > MAX_STRING_BYTES:
            raise RecordingError(f"{self.name}: string {i} has a broken offset")
        s = self._read(lo, hi - lo).decode("utf-8", "replace")
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[i] = s
        return s

    def many(self, indexes: list[int]) -> list[str]:
        """Strings ``indexes`` at once: a program's every put carries its object's
        repr, and strings recorded together lie together, so one read of the
        span they cover (if it is not much more than they are) beats a read each."""
        if len(indexes) < 8:
            return [self[i] for i in indexes]
        idx = np.asarray(indexes, dtype=np.int64)
        first, last = int(idx.min()), int(idx.max())
        if first < 0 or last >= self._count:
            return [self[i] for i in indexes]  # says which one is not in the table
        lo, hi = int(self._offsets[first]), int(self._offsets[last + 1])
        starts = np.asarray(self._offsets[idx], dtype=np.int64)
        ends = np.asarray(self._offsets[idx + 1], dtype=np.int64)
        sizes = ends - starts
        if (
            not 0 <= lo <= hi
            or (sizes < 0).any()
            or (sizes > MAX_STRING_BYTES).any()
            or (starts < lo).any()
            or (ends > hi).any()
            or hi - lo > max(1 << 20, 4 * int(sizes.sum()))
        ):
            return [self[i] for i in indexes]
        blob = self._read(lo, hi - lo)
        if len(blob) != hi - lo:
            raise RecordingError(f"{self.name}: its string table is cut short")
        return [
            blob[a:b].decode("utf-8", "replace")
            for a, b in zip((starts - lo).tolist(), (ends - lo).tolist(), strict=True)
        ]


class Recording:
    """A recording's records, strings, snapshots and meta (a file, or a live recorder's)."""

    def __init__(
        self,
        name: str,
        meta: Meta,
        records: np.ndarray,
        strings: Strings,
        snapshots: list[tuple[int, int, int]],
        read_snapshot: Callable[[int, int], bytes],
    ) -> None:
        self.name = name
        self.meta = meta
        self.records = records  # RECORD_DTYPE view (field order = Event tuple order)
        self.strings = strings
        #: (prefix, offset, size) of each stored snapshot, prefixes ascending
        self.snapshots = snapshots
        self._read_snapshot = read_snapshot
        topo = meta.final_topology
        self._n_actors = len(topo.actors)
        self._n_queues = len(topo.queues)
        if meta.traced:  # a program's: what its events grew it to (``check_all`` holds them)
            # the controller may report a process that died before it said it started
            self._n_actors = MAX_TRACED_INDEX
            self._n_queues = meta.grown[1]

    def __len__(self) -> int:
        return len(self.records)

    def snapshot_bytes(self, k: int) -> bytes:
        _prefix, off, size = self.snapshots[k]
        return self._read_snapshot(off, size)

    def events(self, lo: int, hi: int) -> list[Event]:
        """Records ``lo`` to ``hi`` as ``Event`` tuples (strings as text), checked first."""
        arr = np.asarray(self.records[lo:hi])
        if not len(arr):
            return []
        self._check(arr, lo)
        rows: list[Event] = arr.tolist()
        is_str = arr["vtype"] == VT_STR
        if is_str.any():
            at = np.flatnonzero(is_str).tolist()
            texts = self.strings.many([rows[i][6] for i in at])  # type: ignore[misc]
            for i, text in zip(at, texts, strict=True):
                r = rows[i]
                rows[i] = (*r[:6], text, *r[7:])
        return rows

    def check_all(self, chunk: int = 1 << 20) -> None:
        """Check every record now (a window opening the file must not find a
        corrupt one halfway through a replay): ``RecordingError`` for the first."""
        n_strings = len(self.strings)
        made = (0, 0)
        for lo in range(0, len(self.records), chunk):
            arr = np.asarray(self.records[lo : lo + chunk])
            if self.meta.traced:
                check_growth(self.name, arr, lo, self.meta.grown)
                grew = growth(arr)
                made = (max(made[0], grew[0]), max(made[1], grew[1]))
            self._check(arr, lo)
            texts = arr["value"][arr["vtype"] == VT_STR]
            if len(texts) and (int(texts.min()) < 0 or int(texts.max()) >= n_strings):
                raise RecordingError(f"{self.name}: a record names a string it does not have")
        if self.meta.traced:
            check_grown(self.name, self.meta.grown, made)

    def _check(self, arr: np.ndarray, lo: int) -> None:
        """Indexes the reducer would look up must be in range (a corrupt file)."""
        actor, queue, vtype, t = arr["actor"], arr["queue"], arr["vtype"], arr["t"]
        bad = (
            (t < 0)  # monotonic_ns: never negative, and far below 2**62 (146 years)
            | (t >= T_LIMIT)
            | (actor < 0)
            | (actor >= self._n_actors)
            | (queue < -1)
            | (queue >= self._n_queues)
            | (vtype > VT_STR)
            | (arr["kind"] >= _KIND_LIMIT)
        )
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            r = arr[i]
            raise RecordingError(
                f"{self.name}: record {lo + i} is corrupt (time {r['t']}, actor {r['actor']}, "
                f"queue {r['queue']}, kind {r['kind']}, value type {r['vtype']})"
            )


# ---------------------------------------------------------------- opening
def open_recording(path: str | Path) -> Recording:
    """Open and check ``path``; ``RecordingError`` for anything that is not a
    complete recording this qsim can read."""
    name = str(path)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise RecordingError(f"{name}: is not a plain file (qsim opens only files)")
        fd = os.open(path, _OPEN_FLAGS)
    except (OSError, ValueError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise RecordingError(f"{name}: cannot open it: {why}") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise RecordingError(f"{name}: is not a plain file (qsim opens only files)")
        try:
            return _read(f, st.st_size, name)
        except OSError as e:
            raise RecordingError(f"{name}: cannot read it: {e.strerror or e}") from None


def _exact(f: IO[bytes], offset: int, size: int, name: str, what: str) -> bytes:
    f.seek(offset)
    data = f.read(size)
    if len(data) != size:
        raise RecordingError(f"{name}: is cut short inside its {what}")
    return data


def _read(f: IO[bytes], size: int, name: str) -> Recording:
    if size == 0:
        raise RecordingError(f"{name}: is empty, not a qsim recording")
    if size < PREAMBLE_SIZE:
        if _exact(f, 0, size, name, "start")[: len(MAGIC)] != MAGIC[:size]:
            raise RecordingError(f"{name}: is not a qsim recording")
        raise RecordingError(f"{name}: is cut short ({size} bytes): not a whole recording")
    head = _exact(f, 0, PREAMBLE.size, name, "preamble")
    magic, version, pre, *sec = PREAMBLE.unpack(head)
    if magic != MAGIC:
        raise RecordingError(f"{name}: is not a qsim recording (it does not start with QSIMREC)")
    if version > VERSION:
        raise RecordingError(
            f"{name}: was made by a newer qsim (recording format {version}); "
            f"this qsim reads format {VERSION}: please update qsim"
        )
    if version < 1 or pre != PREAMBLE_SIZE:
        raise RecordingError(f"{name}: has an unknown recording format ({version})")
    r_off, count, s_off, s_size, p_off, p_size, m_off, m_size, _ = sec
    if m_size == 0:
        raise RecordingError(
            f"{name}: was never finished (the run that wrote it was stopped before the end)"
        )
    data_end = DATA_OFFSET + count * RECORD_SIZE
    layout = [
        (r_off == RECORDS_OFFSET, "records"),
        (count <= size // RECORD_SIZE and s_off == data_end, "records"),
        (p_off == s_off + s_size, "strings"),
        (m_off == p_off + p_size, "snapshots"),
        (m_off + m_size == size, "meta block"),
    ]
    for ok, what in layout:
        if not ok:
            raise RecordingError(
                f"{name}: its {what} do not fit the file ({size:,} bytes): cut short or corrupt"
            )
    if m_size > MAX_META_BYTES:
        raise RecordingError(f"{name}: its meta block of {m_size:,} bytes is too large")
    _check_npy(_exact(f, RECORDS_OFFSET, NPY_HEADER_SIZE, name, "records header"), count, name)
    meta = parse_meta(_exact(f, m_off, m_size, name, "meta block"), count, name)
    mm = _map(f, size)
    strings = _strings(mm, s_off, s_size, name)
    snaps = _snapshots(mm, p_off, p_size, count, name)
    blob = p_off + U64.size + SNAP_ENTRY.size * len(snaps)
    if count:
        records = np.ndarray((count,), WIRE_DTYPE, buffer=mm, offset=DATA_OFFSET)
    else:
        records = np.zeros(0, WIRE_DTYPE)
    return Recording(
        name,
        meta,
        records.view(RECORD_DTYPE),
        strings,
        snaps,
        lambda off, n: bytes(mm[blob + off : blob + off + n]),
    )


def _map(f: IO[bytes], size: int) -> np.memmap:
    return np.memmap(f, dtype=np.uint8, mode="r", shape=(size,))


def _check_npy(header: bytes, count: int, name: str) -> None:
    try:
        buf = io.BytesIO(header)
        version = np.lib.format.read_magic(buf)
        if version != (1, 0):
            raise ValueError(f".npy version {version}")
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(buf)
    except (ValueError, SyntaxError, TypeError, TokenError, RecursionError) as e:
        raise RecordingError(f"{name}: its records header is corrupt ({e})") from None
    if shape != (count,) or fortran or dtype != WIRE_DTYPE:
        raise RecordingError(
            f"{name}: its records header says {shape} x {dtype}, "
            f"not the {count} qsim records its preamble says"
        )


def _strings(mm: np.memmap, off: int, size: int, name: str) -> Strings:
    if size < U64.size:
        raise RecordingError(f"{name}: its string table is cut short")
    (n,) = U64.unpack(bytes(mm[off : off + U64.size]))
    table = U64.size + U64.size * (n + 1)
    if n >= size // U64.size or table > size:
        raise RecordingError(f"{name}: its string table says {n:,} strings: more than fit")
    offsets = np.ndarray((n + 1,), "<u8", buffer=mm, offset=off + U64.size)
    blob, blob_size = off + table, size - table
    if int(offsets[0]) != 0 or int(offsets[n]) != blob_size:
        raise RecordingError(f"{name}: its string table is corrupt")

    def read(lo: int, k: int) -> bytes:
        if lo + k > blob_size:
            raise RecordingError(f"{name}: a string lies beyond its string table")
        return bytes(mm[blob + lo : blob + lo + k])

    return Strings(name, n, offsets, read)


def _snapshots(
    mm: np.memmap, off: int, size: int, count: int, name: str
) -> list[tuple[int, int, int]]:
    if size < U64.size:
        raise RecordingError(f"{name}: its snapshot table is cut short")
    (n,) = U64.unpack(bytes(mm[off : off + U64.size]))
    index_end = U64.size + SNAP_ENTRY.size * n
    if n > size // SNAP_ENTRY.size or index_end > size:
        raise RecordingError(f"{name}: its snapshot table says {n:,} snapshots: more than fit")
    blob_size = size - index_end
    if not n:
        return []
    idx = np.ndarray((n, 3), "<u8", buffer=mm, offset=off + U64.size).astype(np.int64)
    prefix, s_off, s_size = idx[:, 0], idx[:, 1], idx[:, 2]
    bad = (
        (prefix < 0) | (prefix > count) | (s_off < 0) | (s_size < 0) | (s_off + s_size > blob_size)
    )
    bad[1:] |= prefix[1:] <= prefix[:-1]
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise RecordingError(f"{name}: its snapshot {k} is out of place: corrupt")
    return [(int(a), int(b), int(c)) for a, b, c in idx.tolist()]
