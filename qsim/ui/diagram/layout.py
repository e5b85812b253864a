"""Where everything goes: a pure computation from the topology (no Qt here).

Columns run left to right by queue order: producers, the queues they feed,
the stages that read those queues, the queues the stages feed, ... and the
consumers last. A queue's level is its distance from the producers; a stage
or consumer sits in the column after the queue it reads. Sizes shrink as the
number of columns or of actors per column grows (more than six actors in a
column get one-line boxes), and a long pipeline wraps onto a second or third
row when that lets a 16:9 view draw it larger. Each actor has a "hand": where
the token it holds is drawn (producers on the right edge, consumers on the
left, stage workers below the box, since items go in and out of them).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from qsim.model.scenario import Scenario
from qsim.model.topology import Topology
from qsim.ui.diagram.layout_parts import (
    MARGIN,
    MIN_FONT,
    Columns,
    LegendSpot,
    Measure,
    columns,
    extra_lines,
    legend_spots,
    main_runs,
    queue_levels,
    spread,
)

__all__ = ["LegendSpot", "Measure", "main_runs", "queue_levels"]

Point = tuple[float, float]
COMPACT_OVER = 6  # more actors than this in a column: one-line boxes
SPILL = 0.75  # share of the gap beside a queue that its title may take
STATE_SAMPLES = (
    "blocked on put",
    "waiting on get",
    "crashed (exit -9)",
)  # the state labels an actor box makes room for (longer ones are cut short)


def approx_width(text: str, px: float, bold: bool = False) -> float:
    """A font-free estimate of a text's width (DejaVu Sans averages ~0.6 em)."""
    return len(text) * px * (0.64 if bold else 0.6)


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def center(self) -> Point:
        return (self.x + self.w / 2, self.y + self.h / 2)

    def intersects(self, o: Box) -> bool:
        return self.x < o.right and o.x < self.right and self.y < o.bottom and o.y < self.bottom


@dataclass(frozen=True)
class ActorBox(Box):
    compact: bool = False
    hand: Point = (0.0, 0.0)  # centre of a token the actor holds
    port_in: Point = (0.0, 0.0)
    port_out: Point = (0.0, 0.0)


@dataclass(frozen=True)
class QueueBox(Box):
    row: Box = Box(0, 0, 0, 0)  # the slot row
    slots: int = 1  # slots drawn
    slot_w: float = 26.0
    more: bool = False  # contents may exceed the drawn slots ("+N more")
    spill: float = 0.0  # how far its title may reach past each side (into the lanes)

    def slot_center(self, k: int) -> Point:
        """Centre of slot ``k`` (0 is the front, at the consumer side, on the right)."""
        return (self.row.right - (k + 0.5) * self.slot_w, self.row.y + self.row.h / 2)

    @property
    def front(self) -> Point:
        return (self.row.right, self.row.y + self.row.h / 2)

    @property
    def tail(self) -> Point:
        return (self.row.x, self.row.y + self.row.h / 2)


@dataclass
class Layout:
    actors: dict[int, ActorBox] = field(default_factory=dict)  # drawn actors only
    queues: list[QueueBox] = field(default_factory=list)
    edges: list[tuple[Point, ...]] = field(default_factory=list)  # polylines
    #: the path a token takes along an edge: (0, actor, queue) into a queue,
    #: (1, queue, actor) out of one; it ends (or starts) at the queue's door
    routes: dict[tuple[int, int, int], tuple[Point, ...]] = field(default_factory=dict)
    rect: Box = Box(0, 0, 1280, 720)
    token: float = 22.0  # token height
    #: a traced program's tokens are as wide as their labels, up to this (0: a
    #: lesson's, all ``token_width.NARROW`` token heights wide)
    token_w: float = 0.0
    font_px: float = 12.0
    columns: int = 3
    legend: list[LegendSpot] = field(default_factory=list)


def compute_layout(
    topo: Topology,
    sc: Scenario,
    font_scale: float = 1.0,
    token_scale: float = 1.0,
    measure: Measure = approx_width,
    legend: Sequence[tuple[str, str]] = (),
    legend_title: str = "",
    view: tuple[float, float] = (1280.0, 720.0),
    max_slots: int = 12,
    label_em: float = 0.0,
) -> Layout:
    """Boxes for the drawn actors and queues, the edges, the legend (``(chip
    label, words)`` per entry, after ``legend_title``) and the scene rectangle.

    A long pipeline is wrapped onto a second row when that lets a view of size
    ``view`` draw it larger (it continues left to right, below). A queue shows
    at most ``max_slots`` slots (fewer when several queue columns share a row).
    ``label_em``: a traced program's widest token label (see ``token_width``).
    """
    if topo.traced:  # a program's: grows as it runs (see program_layout)
        from qsim.ui.diagram.program_layout import program_layout

        return program_layout(topo, font_scale, token_scale, measure, view, max_slots, label_em)
    cols = columns(topo)
    extra = extra_lines(sc)
    place = partial(
        _place, topo, sc, cols, font_scale, token_scale, measure, tuple(legend), legend_title
    )
    best = place(max_slots, extra, ())
    best_fit = _fit(best, view)
    starts = range(3, cols.count - 1, 2)  # a new row starts with a queue column
    splits = [(a,) for a in starts] + [(a, b) for a in starts for b in starts if b > a]
    for split in splits:
        lay = place(max_slots, extra, split)
        if _fit(lay, view) > best_fit * 1.1:
            best, best_fit = lay, _fit(lay, view)
    return best


def _fit(lay: Layout, view: tuple[float, float]) -> float:
    return min(view[0] / lay.rect.w, view[1] / lay.rect.h)


def _place(
    topo: Topology,
    sc: Scenario,
    cols: Columns,
    fs: float,
    ts: float,
    measure: Measure,
    legend: tuple[tuple[str, str], ...],
    legend_title: str,
    max_slots: int,
    extra: frozenset[str],
    split: tuple[int, ...],
) -> Layout:
    n_cols = cols.count
    bounds = [0, *split, n_cols]
    rows = [list(range(a, b)) for a, b in itertools.pairwise(bounds)]
    row_of = {c: k for k, r in enumerate(rows) for c in r}
    margin = MARGIN * fs
    token = 22.0 * ts
    slot_w = token + 6.0 * ts
    row_h = token + 7.0 * ts
    font = 12.5 * fs
    small = MIN_FONT * fs
    widest_row = max(len(r) for r in rows)
    # room between a producer and its queue for the token in its hand and two
    # waiting at the queue's back: they never cover each other
    gap = max((64.0 if widest_row <= 5 else 44.0) * fs, 3.2 * token)
    state_w = max(measure(t, small, False) for t in STATE_SAMPLES) + 18.0 * fs
    counter_w = measure("99999 done", small, False)

    col_w: dict[int, float] = {}
    compact: dict[int, bool] = {}
    for col, members in cols.actors.items():
        compact[col] = len(members) > COMPACT_OVER
        longest = max(measure(topo.actors[i].name, font, True) for i in members)
        if compact[col]:
            w = token * 0.62 + 8 * fs + longest + 10 * fs + state_w + counter_w
            col_w[col] = max(w + 14 * fs, 150.0 * fs)
        else:
            inner = max(longest, state_w, counter_w)
            col_w[col] = max(token * 0.62 + 16 * fs + inner, 120.0 * fs)
    qslots: dict[int, int] = {}
    spill: dict[int, float] = {}  # per queue column: between two lanes, not at an edge
    for r in rows:
        n_q = sum(1 for c in r if c in cols.queues)
        visible = min(max_slots, 12 if n_q <= 1 else 8 if n_q == 2 else 5)
        for col in r:
            widest = 0.0
            spill[col] = SPILL * gap if r[0] < col < r[-1] else 0.0
            for qi in cols.queues.get(col, []):
                q = topo.queues[qi]
                n = min(q.maxsize, visible) if _bounded(q.kind, q.maxsize) else visible
                qslots[qi] = max(1, n)
                widest = max(widest, qslots[qi] * slot_w + 8 * ts)
                # the title may reach into the lanes beside it, above the tokens
                title_w = measure(queue_title(q.id, q.kind, q.maxsize), font, True)
                widest = max(widest, title_w - 2 * spill[col])
                widest = max(widest, measure("+99999 more 99999/99999 full", small, True))
            if col in cols.queues:
                col_w[col] = widest
    for col in range(n_cols):
        col_w.setdefault(col, 60.0 * fs)

    tall_h = max(3 * (small + 5.5 * fs), token + 12 * fs)
    small_h = max(small + 14.0 * fs, token + 6 * ts)
    # a priority item wears its priority on a tag above it: room for it
    prioritised = any(q.kind == "PriorityQueue" for q in topo.queues)
    title_h = font * 1.4 + (token * 0.45 if prioritised else 0.0)
    line_h = small + 3.0 * fs

    def queue_h(qi: int) -> float:
        lines = 2 if topo.queues[qi].id in extra else 1
        return title_h + row_h + 4.0 * fs + lines * line_h

    main_h = tall_h

    def actor_h(col: int) -> float:
        return small_h if compact[col] else tall_h

    def actor_gap(col: int) -> float:
        return (8.0 if compact[col] else 12.0) * fs

    heights: dict[int, float] = {}
    for col, members in cols.actors.items():
        heights[col] = len(members) * actor_h(col) + (len(members) - 1) * actor_gap(col)
    for col, qmembers in cols.queues.items():
        heights[col] = sum(queue_h(qi) for qi in qmembers) + (len(qmembers) - 1) * 10.0 * fs

    row_w = [sum(col_w[c] for c in r) + gap * (len(r) - 1) for r in rows]
    width = max(row_w) + 2 * margin
    spots, legend_h = legend_spots(legend, legend_title, width, fs, token, measure)
    if spots:
        width = max(width, max(s.x + s.w for s in spots) + margin)
    col_x: dict[int, float] = {}
    top = margin + (legend_h + 14.0 * fs if spots else 0.0)
    top += main_h + 30.0 * fs if main_runs(sc) else 0.0
    min_h = (200.0 if len(rows) == 1 else 110.0) * fs
    gap_y: list[float] = []  # per row: the middle of the space above it
    queue_top: dict[int, float] = {}
    actor_top: dict[int, float] = {}
    queue_col = {qi: c for c, members in cols.queues.items() for qi in members}
    for r, w in zip(rows, row_w, strict=True):
        gap_y.append(top - 28.0 * fs)
        content_h = max(max((heights.get(c, 0.0) for c in r), default=0.0), min_h)
        x = (width - w) / 2
        for col in r:
            col_x[col] = x
            x += col_w[col] + gap
        bottom = top
        for col in r:  # queues first, centred in the row
            y = top + (content_h - heights.get(col, 0.0)) / 2
            for qi in cols.queues.get(col, []):
                queue_top[qi] = y
                bottom = max(bottom, y + queue_h(qi))
                y += queue_h(qi) + 10.0 * fs
        for col in r:  # then each actor level with the queue it uses
            members = cols.actors.get(col, [])
            if not members:
                continue
            wanted = []
            for i in members:
                a = topo.actors[i]
                qi = a.output_queue if a.role == "producer" else a.input_queue
                if qi in queue_top and row_of.get(queue_col[qi]) == row_of[col]:
                    wanted.append(queue_top[qi] + title_h + row_h / 2)
                else:
                    wanted.append(top + content_h / 2)
            # several actors on one queue: spread around its row, in order
            groups: dict[float, list[int]] = {}
            for k, c in enumerate(wanted):
                groups.setdefault(c, []).append(k)
            h, g = actor_h(col), actor_gap(col)
            for c, ks in groups.items():
                span = len(ks) * h + (len(ks) - 1) * g
                for n, k in enumerate(ks):
                    wanted[k] = c - span / 2 + h / 2 + n * (h + g)
            for i, y in zip(members, spread(wanted, h, g, top), strict=True):
                actor_top[i] = y
                bottom = max(bottom, y + h)
        top = bottom + 56.0 * fs
    height = top - 56.0 * fs + margin

    lay = Layout(token=token, font_px=font, columns=n_cols, legend=spots)
    qboxes: dict[int, QueueBox] = {}
    for col, qmembers in cols.queues.items():
        for qi in qmembers:
            w = col_w[col]
            y = queue_top[qi]
            rw = qslots[qi] * slot_w
            q = topo.queues[qi]
            row = Box(col_x[col] + (w - rw) / 2, y + title_h, rw, row_h)
            more = not _bounded(q.kind, q.maxsize) or q.maxsize > qslots[qi]
            qboxes[qi] = QueueBox(
                col_x[col], y, w, queue_h(qi), row, qslots[qi], slot_w, more, spill[col]
            )
    lay.queues = [qboxes[i] for i in range(len(topo.queues))]

    for col, members in cols.actors.items():
        h = actor_h(col)
        for i in members:
            y = actor_top[i]
            bx, w = col_x[col], col_w[col]
            role = topo.actors[i].role
            left = role != "producer"
            mid = y + h / 2
            hand = (bx, mid) if left else (bx + w, mid)
            if role == "stage" and not compact[col]:  # in and out: holds it below
                hand = (bx + w / 2, y + h)
            lay.actors[i] = ActorBox(
                bx,
                y,
                w,
                h,
                compact=compact[col],
                hand=hand,
                port_in=(bx, mid),
                port_out=(bx + w, mid),
            )

    if main_runs(sc):  # the main process, above the queue it joins or feeds sentinels
        qid = sc.main.join or sc.main.sentinel_queue
        qb: QueueBox | None = None
        if lay.queues:
            qb = lay.queues[topo.queue_index(qid)] if qid else lay.queues[0]
        mw = max(180.0 * fs, measure("waiting in join()", small, False) + 50 * fs)
        cx = qb.center[0] if qb else width / 2
        mx = min(max(margin, cx - mw / 2), width - margin - mw)
        my = margin + (legend_h + 14.0 * fs if spots else 0.0)
        hand = (cx, my + main_h)
        lay.actors[0] = ActorBox(
            mx,
            my,
            mw,
            main_h,
            compact=False,
            hand=hand,
            port_in=hand,
            port_out=hand,
        )
        if qb is not None:
            lay.edges.append((hand, (cx, qb.y)))
            lay.routes[(0, 0, lay.queues.index(qb))] = (hand, (cx, qb.y))

    edge: tuple[Point, ...]
    for i, box in lay.actors.items():
        a = topo.actors[i]
        if a.role == "producer" and a.output_queue >= 0:
            edge = (box.port_out, lay.queues[a.output_queue].tail)
            lay.edges.append(edge)
            lay.routes[(0, i, a.output_queue)] = edge
        elif a.role in ("consumer", "stage") and a.input_queue >= 0:
            edge = (lay.queues[a.input_queue].front, box.port_in)
            lay.edges.append(edge)
            lay.routes[(1, a.input_queue, i)] = edge
            if a.output_queue >= 0:
                tail = lay.queues[a.output_queue].tail
                out = box.port_out
                if tail[0] >= out[0]:
                    edge = (out, tail)
                else:  # wrapped onto the next row: down, back left, and in
                    xr = min(out[0] + gap / 2, width - 6.0)
                    xl = tail[0] - gap / 2
                    gy = gap_y[row_of[queue_col[a.output_queue]]]
                    edge = (out, (xr, out[1]), (xr, gy), (xl, gy), (xl, tail[1]), tail)
                lay.edges.append(edge)
                lay.routes[(0, i, a.output_queue)] = edge

    lay.rect = Box(0.0, 0.0, width, height)
    return lay


def _bounded(kind: str, maxsize: int) -> bool:
    return maxsize > 0 and kind != "SimpleQueue"


def queue_title(qid: str, kind: str, maxsize: int) -> str:
    """``q: Queue(maxsize=2)``, ``q: SimpleQueue``, ``q: Manager().Queue()``..."""
    if kind == "SimpleQueue":
        text = "SimpleQueue()"
    elif kind == "ManagerQueue":
        text = f"Manager().Queue({f'maxsize={maxsize}' if maxsize else ''})"
    elif kind == "PriorityQueue":
        text = "PriorityQueue (manager)" + (f", maxsize={maxsize}" if maxsize else "")
    else:
        text = f"{kind}({f'maxsize={maxsize}' if maxsize else ''})"
    return f"{qid}: {text}"
