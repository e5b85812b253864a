"""The recorder: keeps every event a run's reducer applied, without growing memory.

What is recorded is the sequence the reducer *applied* (``Reducer.on_applied``:
time-sorted and causality-repaired, what the views showed), so replaying it
in order through a fresh reducer gives the live state at every prefix. The
records stream to a file as the run goes (the ``.qrec`` file itself for
``qsim run --record``; an anonymous temporary file in the window, which
File > Save copies); strings and snapshots spill to temporary files too, so
a 10-minute flat-out run keeps the process's memory flat.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from qsim.model.events import Event, EventKind
from qsim.model.records import RECORD_DTYPE
from qsim.model.state import Reducer
from qsim.model.topology import ActorInfo, Topology
from qsim.model.wire import MAX_STRING, RECORD_SIZE, VT_NONE, VT_STR
from qsim.record import program as program_meta
from qsim.record import snapshot
from qsim.record.format import (
    DATA_OFFSET,
    WIRE_DTYPE,
    RecordingError,
    copy_records,
    replace_file,
    start_file,
    write_tail,
)
from qsim.record.meta import Meta, actor_json, build_meta
from qsim.record.recording import Recording, Strings

#: events between snapshots (a seek applies at most about this many): measured
#: with ``qsim bench replay`` (about 1M events/s applied, so ~30 ms)
SNAPSHOT_EVERY = 32_768
#: records per block of the time index (the newest time at each block's end)
TIME_BLOCK = 65_536
#: distinct strings remembered for de-duplication (the table itself is on disk)
STRING_MEMORY = 65_536
MARK_KINDS = (
    ("first_block", EventKind.PUT_BLOCKED),
    ("first_hang", EventKind.HUNG),
    ("first_error", EventKind.ERROR),
    ("first_crash", EventKind.ACTOR_CRASHED),
)


class Recorder:
    """Records what ``attach``ed reducers apply (``path``: stream into that file)."""

    def __init__(
        self,
        topology: Topology,
        *,
        scenario_id: str = "",
        scenario_toml: str = "",
        start_method: str = "",
        path: str | Path | None = None,
        snapshot_every: int | None = None,
        source: str = "scenario",
        program: dict[str, Any] | None = None,
    ) -> None:
        """``program``: a traced program's run (``qsim.record.program.program_meta``;
        ``topology`` is then the empty traced one, grown by the events)."""
        self.meta = build_meta(
            topology,
            scenario_id=scenario_id,
            scenario_toml=scenario_toml,
            start_method=start_method,
            source=source,
            program=program,
        )
        self.topology = topology
        self.traced = program is not None
        #: a traced program's: processes and queues its events grew to so far
        self.grown = (0, 0)
        self._line_files: set[int] = set()  # string indexes of files lines were run in
        self._files_read: set[int] = set()
        self.path = Path(path) if path is not None else None
        self._part = f"{self.path}.part" if self.path is not None else ""
        self._f: IO[bytes] = (
            open(self._part, "w+b")  # noqa: SIM115 - open while the run goes
            if self.path is not None
            else tempfile.TemporaryFile(prefix="qsim-rec-")  # noqa: SIM115
        )
        start_file(self._f, self.meta["format"])
        self.count = 0
        self.snapshot_every = snapshot_every or SNAPSHOT_EVERY
        self._next_snap = self.snapshot_every
        self._str_blob: IO[bytes] = tempfile.TemporaryFile(prefix="qsim-str-")  # noqa: SIM115
        self._str_offsets = array("Q", [0])
        self._str_index: dict[str, int] = {}
        self._snap_blob: IO[bytes] = tempfile.TemporaryFile(prefix="qsim-snap-")  # noqa: SIM115
        self._snaps: list[tuple[int, int, int]] = []
        self._snap_end = 0
        self._reducer: Reducer | None = None
        self._n_actors = len(topology.actors)
        self._added: list[tuple[int, ActorInfo]] = []
        self.marks: dict[str, int] = {}
        self.mark_times: dict[str, int] = {}
        self._time_blocks: list[int] = []  # newest time up to each full block's end
        self._t_max = 0
        self.settled = False
        #: why recording stopped early ("" while it goes on): what was recorded stays good
        self.error = ""
        self.run_info: dict[str, Any] = {}
        self.closed = False

    # ------------------------------------------------------------ recording
    def attach(self, reducer: Reducer) -> None:
        """Record everything ``reducer`` applies from now on (from its first event)."""
        self._reducer = reducer
        reducer.on_applied = self._on_applied

    def _on_applied(self, events: list[Event], settled: bool) -> None:
        try:
            self._record(events, settled)
        except OSError as e:  # a full disk: the run goes on, unrecorded from here
            self.error = f"recording stopped after {self.count:,} events: {e.strerror or e}"
            if self._reducer is not None and self._reducer.on_applied == self._on_applied:
                self._reducer.on_applied = None

    def _record(self, events: list[Event], settled: bool) -> None:
        r = self._reducer
        if r is not None and not self.traced:  # workers that joined live (before these events)
            while self._n_actors < len(r.actors):
                info = r.topology.actors[self._n_actors]
                self.meta["added"].append([self.count, actor_json(info)])
                self._added.append((self.count, info))
                self._n_actors += 1
        if events:
            arr = self._encode(events)
            self._f.write(arr.tobytes())  # a record's bytes are the wire layout
            kinds = arr["kind"]
            for name, kind in MARK_KINDS:
                if name not in self.marks:
                    hit = np.flatnonzero(kinds == kind)
                    if len(hit):
                        h = int(hit[0])
                        self.marks[name] = self.count + h
                        # the time of the instant that shows it (as Replay.time_at says)
                        self.mark_times[name] = max(self._t_max, int(arr["t"][: h + 1].max()))
            self._index_times(arr["t"])
            if self.traced:
                self._grow(arr)
            self.count += len(arr)
            if r is not None and self.count >= self._next_snap:
                self.take_snapshot(r)
        if settled:
            self.settled = True

    def _grow(self, arr: np.ndarray) -> None:
        """A program's topology grew (its processes and queues are made by events),
        and the files its processes ran lines of (their text is kept at the end)."""
        made = program_meta.growth(arr)
        self.grown = (max(self.grown[0], made[0]), max(self.grown[1], made[1]))
        lines = arr["value"][(arr["kind"] == EventKind.LINE) & (arr["vtype"] == VT_STR)]
        if len(lines) and len(self._line_files) < program_meta.MAX_FILES:
            self._line_files.update(np.unique(lines).tolist())

    def _index_times(self, t: np.ndarray) -> None:
        i, pos = 0, self.count
        while i < len(t):
            part = t[i : i + TIME_BLOCK - (pos + i) % TIME_BLOCK]
            self._t_max = max(self._t_max, int(part.max()))
            i += len(part)
            if not (pos + i) % TIME_BLOCK:
                self._time_blocks.append(self._t_max)

    @property
    def time_index(self) -> list[int]:
        """The newest event time up to the end of each block of ``TIME_BLOCK`` records."""
        last = [self._t_max] if self.count % TIME_BLOCK else []
        return [*self._time_blocks, *last]

    def take_snapshot(self, r: Reducer) -> int:
        """Keep ``r``'s state at the current prefix; returns its size in bytes."""
        data = snapshot.encode(snapshot.capture(r))
        self._snap_blob.seek(self._snap_end)
        self._snap_blob.write(data)
        self._snaps.append((self.count, self._snap_end, len(data)))
        self._snap_end += len(data)
        # a big state (a queue of 100,000 items) costs ~15 ms to take and as much
        # to restore: take it less often, so that it costs the live run a few
        # percent (a seek then applies more events, but restores fewer integers)
        self._next_snap = self.count + max(self.snapshot_every, snapshot.size_in_ints(data) // 4)
        return len(data)

    def _encode(self, events: list[Event]) -> np.ndarray:
        try:
            arr = np.array(events, dtype=RECORD_DTYPE)
        except (TypeError, ValueError):  # a text value, or None: one by one
            rows: list[Any] = []
            for e in events:
                v = e[6]
                if isinstance(v, str):
                    rows.append((*e[:6], self.intern(v), e[7], VT_STR, e[9]))
                elif v is None:
                    rows.append((*e[:6], 0, e[7], VT_NONE, e[9]))
                else:
                    rows.append(e)
            return np.array(rows, dtype=RECORD_DTYPE)
        is_str = arr["vtype"] == VT_STR
        if is_str.any():  # texts that numpy read as numbers ("12")
            values = arr["value"]
            for i in np.flatnonzero(is_str).tolist():
                values[i] = self.intern(str(events[i][6]))
        return arr

    def intern(self, text: str) -> int:
        """The string-table index of ``text`` (kept on disk; recent ones de-duplicated)."""
        i = self._str_index.get(text)
        if i is not None:
            return i
        data = text[:MAX_STRING].encode("utf-8", "replace")
        self._str_blob.seek(self._str_offsets[-1])
        self._str_blob.write(data)
        i = len(self._str_offsets) - 1
        self._str_offsets.append(self._str_offsets[-1] + len(data))
        if len(self._str_index) >= STRING_MEMORY:
            self._str_index.clear()
        self._str_index[text] = i
        return i

    def string(self, i: int) -> str:
        """String ``i`` of the table (for a live view of the recording)."""
        lo, hi = self._str_offsets[i], self._str_offsets[i + 1]
        self._str_blob.flush()
        return os.pread(self._str_blob.fileno(), hi - lo, lo).decode("utf-8", "replace")

    @property
    def string_count(self) -> int:
        return len(self._str_offsets) - 1

    @property
    def snapshot_bytes(self) -> int:
        return self._snap_end

    @property
    def snapshots(self) -> list[tuple[int, int, int]]:
        return list(self._snaps)

    # ------------------------------------------------------------ reading live
    def view(self) -> Recording:
        """What is recorded so far, readable as a ``Recording`` while the run goes on
        (the window scrubs back with it): the records memory-mapped from the spill
        file, strings and snapshots read from theirs. Nothing is copied; the view
        keeps the count it was made with (ask again for a longer one)."""
        if self.closed:
            raise RecordingError("the recording was closed")
        count = self.count
        for f in (self._f, self._str_blob, self._snap_blob):
            f.flush()
        name = str(self.path) if self.path is not None else "the live recording"
        if count:
            size = DATA_OFFSET + count * RECORD_SIZE
            mm = mmap.mmap(self._f.fileno(), size, access=mmap.ACCESS_READ)
            records = np.ndarray((count,), WIRE_DTYPE, buffer=mm, offset=DATA_OFFSET)
        else:
            records = np.zeros(0, WIRE_DTYPE)
        n_str = self.string_count
        offsets = np.asarray(self._str_offsets[: n_str + 1], dtype=np.uint64)

        def reader(f: IO[bytes]) -> Callable[[int, int], bytes]:
            def read(offset: int, size: int) -> bytes:
                if f.closed:  # its fd number may belong to another file by now
                    raise RecordingError(f"{name}: the recording was closed")
                return os.pread(f.fileno(), size, offset)

            return read

        raw = self.final_meta()
        program = None
        if self.traced:
            program = program_meta.parse_program(raw["program"], _no_fault)
        meta = Meta(raw, self.topology, list(self._added), program, self.grown)
        return Recording(
            name,
            meta,
            records.view(RECORD_DTYPE),
            Strings(name, n_str, offsets, reader(self._str_blob)),
            list(self._snaps),
            reader(self._snap_blob),
        )

    # ------------------------------------------------------------ files
    def final_meta(self) -> dict[str, Any]:
        if self.traced:
            self.meta["grown"] = {"actors": self.grown[0], "queues": self.grown[1]}
            for i in sorted(self._line_files - self._files_read):  # read each once
                self._files_read.add(i)
                program_meta.add_source(self.meta["program"], self.string(i))
        return {
            **self.meta,
            "settled": self.settled,
            "marks": dict(self.marks),
            "snapshot_every": self.snapshot_every,
            "time_index": {"block": TIME_BLOCK, "max": self.time_index},
            "run": dict(self.run_info),
        }

    def _tail(self, out: IO[bytes]) -> None:
        self._str_blob.flush()
        self._snap_blob.flush()
        write_tail(
            out,
            self.count,
            (self._str_offsets, self._str_blob),
            (self._snaps, self._snap_blob),
            self.final_meta(),
        )

    def save(self, dest: str | Path) -> Path:
        """Write a finished copy of the recording so far to ``dest`` (File > Save)."""
        dest = Path(dest)
        part = f"{dest}.part"
        try:
            with open(part, "w+b") as out:
                copy_records(self._f, out, self.count)
                self._tail(out)
            replace_file(part, str(dest))
        finally:
            self._f.seek(0, os.SEEK_END)  # the live recording goes on at its end
            if os.path.exists(part):
                os.unlink(part)
        return dest

    def finish(self, run_info: dict[str, Any] | None = None) -> Path | None:
        """The run is over: finish the file (if recording to one) and stop recording."""
        if run_info:
            self.run_info.update(run_info)
        if self._reducer is not None and self._reducer.on_applied == self._on_applied:
            self._reducer.on_applied = None
        if self.path is None or self.closed:
            return self.path
        self._tail(self._f)
        self._f.close()
        replace_file(self._part, str(self.path))
        self.closed = True
        self._close_spills()
        return self.path

    def close(self) -> None:
        """Drop the temporary files (a recording to a file is finished first)."""
        if self.closed:
            return
        if self.path is not None:
            self.finish()
            return
        if self._reducer is not None and self._reducer.on_applied == self._on_applied:
            self._reducer.on_applied = None
        self._f.close()
        self._close_spills()
        self.closed = True

    def _close_spills(self) -> None:
        self._str_blob.close()
        self._snap_blob.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _no_fault(fld: str, why: str) -> RecordingError:
    return RecordingError(f"the live recording: meta field {fld} {why}")
