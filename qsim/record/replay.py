"""A recording as an event source: the reducer's state at any instant, fast.

An *instant* is a prefix length ``k`` (the first ``k`` recorded events are
applied; its time is ``time_at(k)``). ``seek(k)`` restores the nearest
snapshot at or before ``k`` and applies the rest (at most about
``SNAPSHOT_EVERY`` events), or just plays on when ``k`` is a little ahead.
Stepping back is ``seek(k - 1)``: exact, because a replay reducer's state at
a prefix does not depend on how it got there (``snapshot.replay_reducer``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from typing import Any

import numpy as np

from qsim.model.events import Event
from qsim.model.state import Reducer
from qsim.model.topology import Topology
from qsim.record import snapshot
from qsim.record.format import RecordingError
from qsim.record.recorder import SNAPSHOT_EVERY, TIME_BLOCK
from qsim.record.recording import Recording

CHUNK = 65_536  # records converted to tuples at once
#: memory for snapshots a replay takes itself where the file has none near
MEMORY_SNAPSHOT_BYTES = 128 * 1024 * 1024
#: the fields of a report that only the live run knew (kept in the recording's meta)
REPORT_HEAD = (
    "scenario",
    "start_method",
    "duration_s",
    "events_emitted",
    "events_received",
    "finished",
)
#: events applied in about the time a snapshot takes to restore
RESTORE_COST = 1_000
#: a move that applied more events than this shows no animation (``last_applied`` empty)
ANIMATE_MAX = 20_000


class Replay:
    """Plays a ``Recording`` through a reducer; ``reducer`` is the state at ``pos``.

    ``full_history``: keep the live reducer's long history windows (for the
    report of a whole run, played once from the start; seeking back is then slow).
    """

    def __init__(self, rec: Recording, full_history: bool = False) -> None:
        self.rec = rec
        self.meta = rec.meta
        self.full_history = full_history
        self.snapshot_every = SNAPSHOT_EVERY
        every = rec.meta.raw.get("snapshot_every")
        if type(every) is int and 16 <= every <= 100_000_000:
            self.snapshot_every = every
        #: prefix -> where its snapshot is: an index into the file's, or bytes in memory
        # snapshots keep short history windows: a full-history replay plays from 0
        self._snaps: dict[int, int | bytes] = (
            {} if full_history else {p: k for k, (p, _o, _s) in enumerate(rec.snapshots)}
        )
        self._snap_prefixes = sorted(self._snaps)
        self._memory_bytes = 0
        self._time_blocks: np.ndarray | None = None
        self.pos = 0
        self.played_on = True
        self.reducer = self._fresh(self._topology_at(0))
        self._settled = False

    def __len__(self) -> int:
        return len(self.rec)

    def grow(self, rec: Recording) -> None:
        """Go on with a longer view of the same recording (a live run's, which grows
        while it is watched): the position, the reducer and every snapshot stay."""
        if len(rec) < len(self.rec):
            raise ValueError("a replay can only grow")
        self.rec, self.meta = rec, rec.meta
        if not self.full_history:
            for k, (p, _o, _s) in enumerate(rec.snapshots):
                if p not in self._snaps:
                    self._snaps[p] = k
            self._snap_prefixes = sorted(self._snaps)
        self._time_blocks = None

    # ------------------------------------------------------------ seeking
    def seek(self, k: int) -> None:
        """Show the state after the first ``k`` events (clamped to the recording).

        ``played_on`` tells afterwards whether it played on from where it was
        (``reducer.last_applied`` then holds just the events it passed), or
        restored a snapshot first."""
        k = max(0, min(int(k), len(self.rec)))
        self.played_on = True
        if k != self.pos or not self._at_end_settled(k):
            base = self._nearest(k)
            # playing on beats restoring unless a snapshot is much nearer (restoring
            # costs about what applying RESTORE_COST events does)
            ahead = self.pos <= k and k - self.pos <= k - base + RESTORE_COST
            if not ahead or self._settled:
                self._restore(base)
                self.played_on = False
            self._forward(k)

    def step(self, n: int = 1) -> None:
        """``n`` events forwards (or backwards, ``n`` < 0)."""
        self.seek(self.pos + n)

    def play_to_end(self) -> Reducer:
        self.seek(len(self.rec))
        return self.reducer

    def _at_end_settled(self, k: int) -> bool:
        return k < len(self.rec) or not self.meta.settled or self._settled

    def _nearest(self, k: int) -> int:
        i = bisect_right(self._snap_prefixes, k)
        return self._snap_prefixes[i - 1] if i else 0

    def _topology_at(self, k: int) -> Topology:
        """Workers that joined live before the event at ``k`` are in the topology."""
        t = self.meta.topology
        added = tuple(a for p, a in self.meta.added if p < k)
        return Topology((*t.actors, *added), t.queues) if added else t

    def _fresh(self, topology: Topology) -> Reducer:
        if self.full_history:
            return Reducer(topology, reorder_ns=0)
        return snapshot.replay_reducer(topology)

    def _restore(self, base: int) -> None:
        r = self.reducer  # the same object: whoever shows it keeps showing the replay
        snapshot.reset(r, self._topology_at(base), self.full_history)
        if base:
            where = self._snaps[base]
            data = where if isinstance(where, bytes) else self.rec.snapshot_bytes(where)
            try:
                snapshot.restore(r, snapshot.decode(data))
            except RecordingError as e:
                raise RecordingError(f"{self.rec.name}: at event {base:,}: {e}") from None
        self.pos, self._settled = base, False

    def _forward(self, k: int) -> None:
        r, rec = self.reducer, self.rec
        added = self.meta.added
        n_initial = len(self.meta.topology.actors)
        moved: list[Event] = []
        while self.pos < k:
            pos = self.pos
            while len(r.actors) - n_initial < len(added):  # joined before event ``pos``
                p, info = added[len(r.actors) - n_initial]
                if p > pos:
                    break
                r.add_actor(info)
            hi = min(k, pos + CHUNK, self._next_grid(pos))
            nxt = len(r.actors) - n_initial
            if nxt < len(added) and pos < added[nxt][0] < hi:
                hi = added[nxt][0]
            events = rec.events(pos, hi)
            r.replay(events)
            self.pos = hi
            if len(moved) <= ANIMATE_MAX:
                moved += events
            if hi % self.snapshot_every == 0 and not self.full_history:
                self._remember(hi)
        if self.pos == len(rec):  # workers that joined after the last event
            for _p, info in added[len(r.actors) - n_initial :]:
                r.add_actor(info)
            if self.meta.settled and not self._settled:
                r.flush()  # the live run settled what could not be repaired: so do we
                self._settled = True
        r.last_applied = moved if len(moved) <= ANIMATE_MAX else []

    def follow(self, k: int) -> Iterator[Event]:
        """Play on to ``k`` one event at a time, yielding each right after it was
        applied (exporters watch what each event changed)."""
        r, rec = self.reducer, self.rec
        added = self.meta.added
        n_initial = len(self.meta.topology.actors)
        while self.pos < k:
            hi = min(k, self.pos + CHUNK)
            for i, e in enumerate(rec.events(self.pos, hi), start=self.pos):
                while len(r.actors) - n_initial < len(added):
                    p, info = added[len(r.actors) - n_initial]
                    if p > i:
                        break
                    r.add_actor(info)
                r.replay([e])
                self.pos = i + 1
                yield e
        self._forward(k)  # the end of the recording: late workers, settling

    def _next_grid(self, pos: int) -> int:
        n = self.snapshot_every
        return (pos // n + 1) * n

    def _remember(self, prefix: int) -> None:
        """Keep a snapshot where the file has none within ``snapshot_every`` before."""
        if prefix - self._nearest(prefix) < self.snapshot_every:
            return
        data = snapshot.encode(snapshot.capture(self.reducer))
        if self._memory_bytes + len(data) > MEMORY_SNAPSHOT_BYTES:
            return
        self._memory_bytes += len(data)
        self._snaps[prefix] = data
        self._snap_prefixes.insert(bisect_right(self._snap_prefixes, prefix), prefix)

    # ------------------------------------------------------------ time
    def time_at(self, k: int) -> int:
        """The time of instant ``k``: the newest event time among the first ``k``."""
        k = max(0, min(int(k), len(self.rec)))
        if not k:
            return 0
        blocks = self._blocks()
        b = (k - 1) // TIME_BLOCK
        lo = b * TIME_BLOCK
        t = int(np.max(self.rec.records["t"][lo:k]))
        return max(t, int(blocks[b - 1])) if b else t

    def prefix_at(self, t_ns: int) -> int:
        """The last instant whose time is at most ``t_ns`` (0 if none)."""
        blocks = self._blocks()
        b = int(np.searchsorted(blocks, t_ns, side="right"))
        if b >= len(blocks):
            return len(self.rec)
        lo = b * TIME_BLOCK
        ts = np.maximum.accumulate(np.asarray(self.rec.records["t"][lo : lo + TIME_BLOCK]))
        if b:
            ts = np.maximum(ts, blocks[b - 1])
        return lo + int(np.searchsorted(ts, t_ns, side="right"))

    def _blocks(self) -> np.ndarray:
        """Running maximum of the time at the end of each block: from the file's
        time index if it has a sound one, else by one pass over the times."""
        if self._time_blocks is None:
            n = len(self.rec)
            raw = self.meta.raw.get("time_index")
            stored = raw.get("max") if isinstance(raw, dict) else None
            if (
                isinstance(raw, dict)
                and raw.get("block") == TIME_BLOCK
                and isinstance(stored, list)
                and len(stored) == -(-n // TIME_BLOCK)
                and all(type(x) is int and 0 <= x < 2**63 for x in stored)
            ):
                blocks = np.asarray(stored, dtype=np.int64)
                if not len(blocks) or bool(np.all(np.diff(blocks) >= 0)):
                    self._time_blocks = blocks
                    return blocks
            t = self.rec.records["t"]
            maxima = [int(np.max(t[lo : lo + TIME_BLOCK])) for lo in range(0, n, TIME_BLOCK)]
            self._time_blocks = np.maximum.accumulate(np.asarray(maxima, dtype=np.int64))
        return self._time_blocks

    @property
    def start_t(self) -> int:
        return self.time_at(1)

    @property
    def end_t(self) -> int:
        return self.time_at(len(self.rec))

    def marks(self) -> dict[str, int]:
        """Instants to jump to: ``first_block`` etc. -> the prefix that shows that event."""
        return {name: i + 1 for name, i in self.meta.marks.items()}


def replay_report(rec: Recording) -> dict[str, Any]:
    """The report of the recorded run, from the recording alone: the same JSON as
    ``qsim run --headless --json`` (a program's: ``qsim trace --headless --json``)
    printed for that run."""
    from qsim.model.lessons import lane_report
    from qsim.model.metrics import build_report
    from qsim.model.scenario_io import ScenarioError, parse_scenario

    r = Replay(rec, full_history=True).play_to_end()
    run = rec.meta.run
    if rec.meta.program is not None:  # a traced program's: as ``qsim trace --headless``
        from qsim.model.program import program_report
        from qsim.record.program import program_report_args

        return program_report(r, *program_report_args(run))
    raw = run.get("head")
    head = {
        k: raw[k]
        for k in REPORT_HEAD
        if isinstance(raw, dict) and isinstance(raw.get(k), str | int | float | bool)
    }
    report = build_report(r, **head)
    if isinstance(run.get("exit_codes"), dict):
        report["exit_codes"] = run["exit_codes"]
    lanes: list[dict[str, object]] = []
    if rec.meta.scenario_toml:
        try:
            sc = parse_scenario(rec.meta.scenario_toml, source=f"{rec.name} (its scenario)")
        except ScenarioError as e:
            raise RecordingError(f"{rec.name}: its scenario is not valid: {e}") from None
        lanes = lane_report(sc, r)
    report["lanes"] = lanes
    return report
