"""Paths for a traced program's edges and tokens that never cut across a queue.

See ``Router``. No Qt here.
"""

from __future__ import annotations

from qsim.ui.diagram.layout import Layout, Point

MARGIN = 24.0


class Router:
    """Paths that never cut across a queue's slot row (nor a box, mostly).

    A path runs only in corridors: the gap beside a column (vertically, within
    its own row of columns), the gap between two rows, and the space below
    everything. An edge to the next column goes straight, then level into the
    queue's column (a narrow queue's tail lies inside its column); any other
    edge leaves its column sideways, runs along the gap between the rows (or
    below the last row), and comes in beside the other end. Several such edges
    in one gap get tracks of their own.
    """

    def __init__(
        self,
        lay: Layout,
        off: float,
        fs: float,
        cols: dict[int, list[int]],
        qcols: dict[int, list[int]],
        row_of: dict[int, int],
        gap_y: list[float],
        bottom: float,
        width: float,
        margin: float,
    ) -> None:
        self.lay, self.off, self.fs = lay, off, fs  # off: a corridor's distance from a column
        self.row_of = row_of
        self.gap_y = gap_y
        self.bottom = bottom
        self.width = width
        self.margin = margin
        self.actor_col = {i: c for c, members in cols.items() for i in members}
        self.queue_col = {q: c for c, members in qcols.items() for q in members}
        self.used: dict[int, int] = {}  # corridor (row below which it runs) -> tracks taken
        self.lowest = bottom  # the lowest track below everything
        self.spare = False  # routes that are not drawn: the first track, none taken

    def _track(self, below_row: int) -> float:
        """A y in the gap below row ``below_row`` (the last row: below everything)."""
        n = 0 if self.spare else self.used.get(below_row, 0)
        if not self.spare:
            self.used[below_row] = n + 1
        fs = self.fs
        if below_row + 1 < len(self.gap_y):  # between two rows: around the gap's middle
            k = min(n, 6)
            return self.gap_y[below_row + 1] + (k + 1) // 2 * 6.0 * fs * (1 if k % 2 else -1)
        if self.spare:  # not drawn, rarely flown: within the scene's bottom margin
            return self.bottom + 12.0 * fs
        y = self.bottom + 18.0 * fs + 12.0 * fs * n
        self.lowest = max(self.lowest, y + max(6.0 * fs, self.lay.token / 2 + 2.0 * fs))
        return y

    def _corridor(self, row_a: int, row_b: int) -> float:
        """The gap a path between rows ``row_a`` and ``row_b`` runs along."""
        if row_a == row_b:
            return self._track(row_a)
        return self._track(min(row_a, row_b))  # the gap just above the lower one

    def put(self, ai: int, qi: int) -> tuple[Point, ...]:
        box, qb = self.lay.actors[ai], self.lay.queues[qi]
        start, tail = box.port_out, qb.tail
        xl = qb.x - self.off
        qc = self.queue_col[qi]
        rq = self.row_of[qc]
        if ai not in self.actor_col:  # from the strip above
            return self._from_strip(start, rq, xl, tail)
        ac = self.actor_col[ai]
        ra = self.row_of[ac]
        if qc == ac + 1 and ra == rq:  # the next column: straight
            door = (qb.x, tail[1])
            return (start, door, tail) if door != tail else (start, tail)
        xr = start[0] + self.off
        y = self._corridor(ra, rq)
        return (start, (xr, start[1]), (xr, y), (xl, y), (xl, tail[1]), tail)

    def get(self, qi: int, ai: int) -> tuple[Point, ...]:
        box, qb = self.lay.actors[ai], self.lay.queues[qi]
        front = qb.front
        xr = qb.right + self.off
        qc = self.queue_col[qi]
        rq = self.row_of[qc]
        if ai not in self.actor_col:  # up to the strip
            return self._to_strip(front, rq, xr, box.hand)
        end = box.port_in
        ac = self.actor_col[ai]
        ra = self.row_of[ac]
        if ac == qc + 1 and ra == rq:
            door = (qb.right, front[1])
            return (front, door, end) if door != front else (front, end)
        xl = end[0] - self.off
        y = self._corridor(rq, ra)
        return (front, (xr, front[1]), (xr, y), (xl, y), (xl, end[1]), end)

    def _from_strip(self, start: Point, row: int, xl: float, tail: Point) -> tuple[Point, ...]:
        if row == 0:  # along the strip, then down beside the queue's column
            return (start, (xl, start[1]), (xl, tail[1]), tail)
        y = self.gap_y[row]  # down the left margin, along the gap above its row
        xm = self.margin / 3
        return (start, (xm, start[1]), (xm, y), (xl, y), (xl, tail[1]), tail)

    def _to_strip(self, front: Point, row: int, xr: float, hand: Point) -> tuple[Point, ...]:
        if row == 0:
            return (front, (xr, front[1]), (xr, hand[1]), hand)
        y = self.gap_y[row]
        xm = self.width - self.margin / 3
        return (front, (xr, front[1]), (xr, y), (xm, y), (xm, hand[1]), hand)
