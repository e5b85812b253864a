"""The ``.qrec`` file: a run's event log, written as it grows, opened memory-mapped.

Layout (little-endian)::

    offset  what
    0       preamble, 128 bytes: magic ``QSIMREC\\0``, format version, and the
            offset and size of every section (a meta size of 0: never finished)
    128     records: one complete ``.npy`` block (a 256-byte ``.npy`` v1.0 header,
            then count x 40-byte records in ``qsim.model.wire``'s layout), so
            ``np.memmap(path, WIRE_DTYPE, "r", offset=384)`` opens 10M rows at once
    ...     strings: count (u64), count + 1 offsets (u64), the UTF-8 bytes
    ...     snapshots: count (u64), (prefix, offset, size) each (u64), their bytes
    ...     meta: UTF-8 JSON: format and qsim version, scenario TOML, topology,
            start method, machine facts, marks, run figures (``meta.py``)

The records come right after the fixed preamble so that a recorder can stream
them to disk while the run goes (the live recording is this very file growing)
and write what it knows only at the end (strings, snapshots, meta) behind them.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from collections.abc import Sequence
from typing import IO, Any

import numpy as np

from qsim.model.wire import RECORD_FIELDS, RECORD_SIZE

MAGIC = b"QSIMREC\0"
#: the newest format this qsim reads. 1: a scenario's run; 2: a traced program's
#: too (its topology grows from its events: a qsim that reads only 1 would call
#: it corrupt, so it is told "made by a newer qsim"). A scenario's run is still
#: written as 1, so older qsims keep reading those.
VERSION = 2
SCENARIO_VERSION, PROGRAM_VERSION = 1, 2
PREAMBLE = struct.Struct("<8sII9Q")  # magic, version, preamble size, 9 offsets/sizes
PREAMBLE_SIZE = 128
RECORDS_OFFSET = PREAMBLE_SIZE
NPY_HEADER_SIZE = 256
DATA_OFFSET = RECORDS_OFFSET + NPY_HEADER_SIZE
U64 = struct.Struct("<Q")
SNAP_ENTRY = struct.Struct("<3Q")

#: the records as they lie in the file (wire order, packed): ``.npy``'s dtype
WIRE_DTYPE = np.dtype(
    [(name, fmt) for name, fmt, _off in sorted(RECORD_FIELDS, key=lambda f: f[2])]
)
assert WIRE_DTYPE.itemsize == RECORD_SIZE


class RecordingError(Exception):
    """A recording that cannot be read: one clear line naming the file and why."""


def npy_header(count: int) -> bytes:
    """The ``.npy`` v1.0 header of ``count`` records, exactly ``NPY_HEADER_SIZE`` bytes
    (fixed, so that the count can be rewritten in place when the file is finished)."""
    d = {"descr": np.lib.format.dtype_to_descr(WIRE_DTYPE), "fortran_order": False}
    text = f"{{'descr': {d['descr']!r}, 'fortran_order': False, 'shape': ({count},), }}"
    room = NPY_HEADER_SIZE - 10  # magic (6), version (2), header length (2)
    body = text.ljust(room - 1) + "\n"
    assert len(body) == room, "the .npy header outgrew its fixed size"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", room) + body.encode("latin1")


def preamble(sections: Sequence[int] = (0,) * 8, version: int = SCENARIO_VERSION) -> bytes:
    """``sections``: records offset and count, strings, snapshots, meta offset and size."""
    raw = PREAMBLE.pack(MAGIC, version, PREAMBLE_SIZE, *sections, 0)
    return raw.ljust(PREAMBLE_SIZE, b"\0")


def start_file(f: IO[bytes], version: int = SCENARIO_VERSION) -> None:
    """An unfinished recording: preamble and ``.npy`` header; records follow."""
    f.seek(0)
    f.write(preamble(version=version))
    f.write(npy_header(0))


def write_tail(
    f: IO[bytes],
    count: int,
    strings: tuple[Sequence[int], IO[bytes]],
    snapshots: tuple[Sequence[tuple[int, int, int]], IO[bytes]],
    meta: dict[str, Any],
) -> None:
    """Finish a file whose ``count`` records are written: strings, snapshots, meta,
    then the counts and offsets in the ``.npy`` header and the preamble.

    ``strings``: (count + 1 offsets, the file holding their bytes from 0);
    ``snapshots``: ((prefix, offset, size) each, the file holding their bytes).
    """
    end = DATA_OFFSET + count * RECORD_SIZE
    f.seek(end)
    s_off = end
    offsets, blob = strings
    n = len(offsets) - 1
    f.write(U64.pack(n))
    f.write(np.asarray(offsets, dtype="<u8").tobytes())
    _copy(blob, f, int(offsets[-1]))
    s_size = f.tell() - s_off
    p_off = f.tell()
    entries, snap_blob = snapshots
    f.write(U64.pack(len(entries)))
    for e in entries:
        f.write(SNAP_ENTRY.pack(*e))
    _copy(snap_blob, f, max((e[1] + e[2] for e in entries), default=0))
    p_size = f.tell() - p_off
    m_off = f.tell()
    f.write(json.dumps(meta, separators=(",", ":")).encode("utf-8"))
    m_size = f.tell() - m_off
    f.truncate()
    f.seek(RECORDS_OFFSET)
    f.write(npy_header(count))
    f.seek(0)
    sections = (RECORDS_OFFSET, count, s_off, s_size, p_off, p_size, m_off, m_size)
    f.write(preamble(sections, int(meta.get("format", SCENARIO_VERSION))))
    f.flush()


def copy_records(src: IO[bytes], dst: IO[bytes], count: int) -> None:
    """The preamble, ``.npy`` header and ``count`` records of a growing recording."""
    src.flush()
    src.seek(0)
    _copy(src, dst, DATA_OFFSET + count * RECORD_SIZE)


def _copy(src: IO[bytes], dst: IO[bytes], size: int) -> None:
    src.flush()
    src.seek(0)
    left = size
    while left > 0:
        chunk = src.read(min(left, 1 << 20))
        if not chunk:
            raise OSError(f"spill file ended {left} bytes early")
        dst.write(chunk)
        left -= len(chunk)


def replace_file(tmp: str, path: str) -> None:
    """Put a finished recording in its place (atomic on one file system)."""
    try:
        os.replace(tmp, path)
    except OSError:  # another file system: copy, then drop the temporary
        shutil.copyfile(tmp, path)
        os.unlink(tmp)
