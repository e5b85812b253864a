"""Where a traced program's processes and queues go (no Qt here).

A scenario's diagram is known before it runs; a program's grows as it runs:
a process appears when it starts, a queue when it is made, an edge when a
process first puts on or gets from a queue (``Topology.uses``). Each process
is given the role its uses say (``drawn_topology``): a *producer* only puts,
a *consumer* only gets, a *stage* does both, and one that has used no queue
yet (a main that only starts and joins, a manager's server) is drawn small
in a strip above the rest.

Columns run left to right as the items flow: a queue's level is its
distance from the queues that pure producers feed (a stage that gets from a
level-L queue and puts on another puts it at L+1; cycles, as in "main sends
tasks, workers send results back to main", are cut where they close, in the
order the queues were made). A process sits just left of the first queue it
puts on, else just right of the last queue it gets from; an edge that has to
go back left (results back to main) runs below everything. Within a column,
rows follow the order things appeared, so a new process or queue is added
at the end of its column and the others keep their rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace

from qsim.model.entities import ActorState
from qsim.model.topology import GOT_FROM, PUT_ON, ActorInfo, QueueInfo, Topology
from qsim.ui.diagram.layout import (
    ActorBox,
    Box,
    Layout,
    Measure,
    Point,
    QueueBox,
    approx_width,
    queue_title,
)

MARGIN = 24.0
COMPACT_OVER = 6  # more processes than this in a column: one-line boxes
INTERNAL = " (internal)"  # appended to an internal queue's or process's drawn name
#: the smallest picture: a 1:1 program fills the view as it will at the end,
#: so the first process and queue are not drawn huge and then shrink
MIN_COLUMNS = 3
STATE_SAMPLES = ("blocked on put", "waiting on get", "waiting in join()", "crashed (exit -15)")


@dataclass(frozen=True)
class Roles:
    """What the uses say about each process and queue."""

    role: dict[int, str]  # actor -> producer / consumer / stage / main (idle)
    puts: dict[int, list[int]]  # actor -> queues it put on, in the order seen
    gets: dict[int, list[int]]  # actor -> queues it got from
    level: dict[int, int]  # queue -> column level


def roles(topo: Topology) -> Roles:
    puts: dict[int, list[int]] = {}
    gets: dict[int, list[int]] = {}
    for u in topo.uses:
        if u.how & PUT_ON:
            puts.setdefault(u.actor, []).append(u.queue)
        if u.how & GOT_FROM:
            gets.setdefault(u.actor, []).append(u.queue)
    role: dict[int, str] = {}
    for a in topo.actors:
        p, g = a.index in puts, a.index in gets
        role[a.index] = "stage" if p and g else "producer" if p else "consumer" if g else "main"
    return Roles(role, puts, gets, queue_levels(topo, role, puts, gets))


def queue_levels(
    topo: Topology, role: dict[int, str], puts: dict[int, list[int]], gets: dict[int, list[int]]
) -> dict[int, int]:
    """Longest distance of each queue from the roots, with cycles cut."""
    n = len(topo.queues)
    succ: dict[int, list[int]] = {q: [] for q in range(n)}
    for a, ins in gets.items():
        for qi in ins:
            for qo in puts.get(a, []):
                if qo != qi and qo not in succ[qi]:
                    succ[qi].append(qo)
    fed = {q for a, outs in puts.items() if role[a] == "producer" for q in outs}
    roots = [q for q in range(n) if q in fed] + [q for q in range(n) if q not in fed]
    order: list[int] = []  # a DFS post-order of the graph without its back edges
    keep: dict[int, list[int]] = {q: [] for q in range(n)}
    state = dict.fromkeys(range(n), 0)  # 0 new, 1 on the path, 2 done
    for root in roots:
        if state[root]:
            continue
        stack = [(root, 0)]
        state[root] = 1
        while stack:
            q, k = stack.pop()
            if k < len(succ[q]):
                stack.append((q, k + 1))
                nxt = succ[q][k]
                if state[nxt] == 0:
                    keep[q].append(nxt)
                    state[nxt] = 1
                    stack.append((nxt, 0))
                elif state[nxt] == 2:
                    keep[q].append(nxt)  # a cross edge: still forward
            else:
                state[q] = 2
                order.append(q)
    level = dict.fromkeys(range(n), 0)
    for q in reversed(order):  # a topological order of what is kept
        for nxt in keep[q]:
            level[nxt] = max(level[nxt], level[q] + 1)
    # a queue nobody has put on yet (results a worker sends at its very end, a
    # pipe back to main) goes after every queue that is fed: that is where it
    # will be once it is, so its readers need not move across the picture
    put_on = {q for outs in puts.values() for q in outs}
    if put_on:
        after = max(level[q] for q in put_on) + 1
        for q in range(n):
            if q not in put_on:
                level[q] = max(level[q], after)
    return level


def drawn_topology(topo: Topology) -> Topology:
    """``topo`` with each process in the role its uses give it, and internal
    parts named so (what the diagram, its animator and tooltips read)."""
    r = roles(topo)
    actors = []
    for a in topo.actors:
        ins, outs = r.gets.get(a.index, []), r.puts.get(a.index, [])
        name = a.name + (INTERNAL if a.group == "internal" and a.index else "")
        actors.append(
            ActorInfo(
                a.index,
                name,
                r.role[a.index],
                a.group,
                ins[-1] if ins else -1,
                outs[0] if outs else -1,
            )
        )
    queues = tuple(replace(q, id=q.id + INTERNAL) if q.internal else q for q in topo.queues)
    return replace(topo, actors=tuple(actors), queues=queues)


def traced_counter(a: ActorState) -> str:
    """A traced process's counter: what it put and got so far."""
    return f"put {a.puts} · got {a.items}" if a.puts or a.items else ""


def actor_column(a: ActorInfo, r: Roles) -> int:
    """Producers and stages just left of the first queue they put on;
    consumers just right of the farthest queue they get from."""
    outs = r.puts.get(a.index, [])
    if outs:
        return 2 * min(r.level[q] for q in outs)
    ins = r.gets.get(a.index, [])
    return 2 + 2 * max(r.level[q] for q in ins) if ins else -1


@dataclass
class _Plan:
    """What goes where (columns) and how big it is, before any position."""

    topo: Topology
    cols: dict[int, list[int]]  # actor column -> actors, in order of appearance
    qcols: dict[int, list[int]]  # queue column -> queues
    strip: list[int]  # idle processes
    n_cols: int
    fs: float
    token: float
    slot_w: float
    row_h: float
    font: float
    gap: float
    tall_h: float
    small_h: float
    queue_h: float
    col_w: dict[int, float]
    compact: dict[int, bool]
    qslots: dict[int, int]
    strip_w: list[float]

    def pitch(self, col: int) -> float:
        if col in self.qcols:
            return self.queue_h + 24.0 * self.fs
        if self.compact.get(col):
            return self.small_h + 8.0 * self.fs
        return self.tall_h + 18.0 * self.fs

    def height(self, col: int) -> float:
        members = self.qcols.get(col) or self.cols.get(col) or []
        return len(members) * self.pitch(col)


def program_layout(
    topo: Topology,
    font_scale: float = 1.0,
    token_scale: float = 1.0,
    measure: Measure = approx_width,
    view: tuple[float, float] = (1200.0, 800.0),
) -> Layout:
    """Boxes, edges and routes for a traced program (``topo``: its drawn topology).

    A long chain of queues is wrapped onto a second (third) row when that lets
    a view of size ``view`` draw it larger; it goes on left to right, below.
    """
    plan = _plan(topo, font_scale, token_scale, measure)
    best = _place(plan, ())
    best_fit = _fit(best, view)
    starts = range(3, plan.n_cols - 1, 2)  # a new row starts with a queue column
    splits = [(a,) for a in starts] + [(a, b) for a in starts for b in starts if b > a + 1]
    for split in splits:
        lay = _place(plan, split)
        if _fit(lay, view) > best_fit * 1.1:
            best, best_fit = lay, _fit(lay, view)
    return best


def _fit(lay: Layout, view: tuple[float, float]) -> float:
    return min(view[0] / lay.rect.w, view[1] / lay.rect.h)


def _plan(topo: Topology, fs: float, ts: float, measure: Measure) -> _Plan:
    r = roles(topo)
    cols: dict[int, list[int]] = {}
    strip: list[int] = []
    for a in topo.actors:
        col = actor_column(a, r)
        if col < 0:
            strip.append(a.index)
        else:
            cols.setdefault(col, []).append(a.index)
    qcols: dict[int, list[int]] = {}
    for q in topo.queues:
        qcols.setdefault(1 + 2 * r.level[q.index], []).append(q.index)
    n_cols = max([*cols, *qcols, MIN_COLUMNS - 1]) + 1

    token = 22.0 * ts
    slot_w = token + 6.0 * ts
    row_h = token + 8.0 * ts
    font = 12.0 * fs
    state_w = max(measure(t, 11.0 * fs, False) for t in STATE_SAMPLES) + 18.0 * fs
    counter_w = measure("put 9999 · got 9999", 10.0 * fs, False)
    compact = {c: len(m) > COMPACT_OVER for c, m in cols.items()}
    col_w: dict[int, float] = {}
    for col, members in cols.items():
        longest = max(measure(topo.actors[i].name, font, True) for i in members)
        if compact[col]:
            w = token * 0.62 + 8 * fs + longest + 10 * fs + state_w + counter_w
            col_w[col] = max(w + 14 * fs, 150.0 * fs)
        else:
            inner = max(longest, state_w, counter_w)
            col_w[col] = max(token * 0.62 + 16 * fs + inner, 120.0 * fs)
    visible = 12 if len(qcols) <= 1 else 8 if len(qcols) == 2 else 6
    qslots: dict[int, int] = {}
    for col, qmembers in qcols.items():
        widest = 0.0
        for qi in qmembers:
            q = topo.queues[qi]
            n = min(q.maxsize, visible) if _bounded(q) else visible
            qslots[qi] = max(1, n)
            widest = max(widest, qslots[qi] * slot_w + 8 * ts)
            widest = max(widest, measure(queue_title(q.id, q.kind, q.maxsize), font, True))
        col_w[col] = widest
    for col in range(n_cols):
        col_w.setdefault(col, 100.0 * fs)
    strip_w = [
        max(150.0 * fs, measure(topo.actors[i].name, font, True) + state_w * 0.75 + 30 * fs)
        for i in strip
    ]
    return _Plan(
        topo,
        cols,
        qcols,
        strip,
        n_cols,
        fs,
        token,
        slot_w,
        row_h,
        font,
        (64.0 if n_cols <= 5 else 48.0) * fs,
        max(62.0 * fs, token + 12 * fs),
        max(28.0 * fs, token + 6 * ts),
        font * 1.5 + row_h + 10.0 * fs * 2.6,
        col_w,
        compact,
        qslots,
        strip_w,
    )


def _place(plan: _Plan, split: tuple[int, ...]) -> Layout:
    topo, fs, gap = plan.topo, plan.fs, plan.gap
    bounds = [0, *split, plan.n_cols]
    rows = [list(range(a, b)) for a, b in itertools.pairwise(bounds)]
    row_of = {c: k for k, row in enumerate(rows) for c in row}
    row_w = [sum(plan.col_w[c] for c in row) + gap * (len(row) - 1) for row in rows]
    strip_total = sum(plan.strip_w) + 16.0 * fs * max(0, len(plan.strip) - 1)
    width = max(*row_w, strip_total) + 2 * MARGIN
    top = MARGIN + (plan.small_h + 30.0 * fs if plan.strip else 0.0)
    min_h = (200.0 if len(rows) == 1 else 110.0) * fs
    col_x: dict[int, float] = {}
    col_top: dict[int, float] = {}
    gap_y: list[float] = []  # per row: the middle of the space above it
    for row, w in zip(rows, row_w, strict=True):
        gap_y.append(top - 28.0 * fs)
        content_h = max(max(plan.height(c) for c in row), min_h)
        x = (width - w) / 2
        for col in row:
            col_x[col] = x
            col_top[col] = top + (content_h - plan.height(col)) / 2
            x += plan.col_w[col] + gap
        top += content_h + 56.0 * fs
    bottom = top - 56.0 * fs
    lay = Layout(token=plan.token, font_px=plan.font, columns=plan.n_cols)

    qboxes: dict[int, QueueBox] = {}
    for col, qmembers in plan.qcols.items():
        y = col_top[col]
        w = plan.col_w[col]
        for qi in qmembers:
            rw = plan.qslots[qi] * plan.slot_w
            slots = Box(col_x[col] + (w - rw) / 2, y + plan.font * 1.5, rw, plan.row_h)
            qboxes[qi] = QueueBox(
                col_x[col], y, w, plan.queue_h, slots, plan.qslots[qi], plan.slot_w, True
            )
            y += plan.pitch(col)
    lay.queues = [qboxes[i] for i in range(len(topo.queues))]
    for col, members in plan.cols.items():
        h = plan.small_h if plan.compact[col] else plan.tall_h
        y = col_top[col]
        bx, w = col_x[col], plan.col_w[col]
        for i in members:
            role = topo.actors[i].role
            mid = y + h / 2
            hand = (bx + w, mid) if role == "producer" else (bx, mid)
            if role == "stage" and not plan.compact[col]:  # in and out: holds it below
                hand = (bx + w / 2, y + h)
            lay.actors[i] = ActorBox(
                bx, y, w, h, compact=plan.compact[col], hand=hand, port_in=(bx, mid),
                port_out=(bx + w, mid),
            )  # fmt: skip
            y += plan.pitch(col)
    x = (width - strip_total) / 2
    for i, w in zip(plan.strip, plan.strip_w, strict=True):
        y, h = MARGIN, plan.small_h
        mid = y + h / 2
        lay.actors[i] = ActorBox(
            x, y, w, h, compact=True, hand=(x + w / 2, y + h), port_in=(x, mid),
            port_out=(x + w, mid),
        )  # fmt: skip
        x += w + 16.0 * fs

    lane = [bottom + 18.0 * fs]  # the next free track below everything, for back edges

    def below() -> float:
        y = lane[0]
        lane[0] += 12.0 * fs
        return y

    actor_col = {i: c for c, members in plan.cols.items() for i in members}
    queue_col = {q: c for c, members in plan.qcols.items() for q in members}

    def put_route(ai: int, qi: int, track: Callable[[], float]) -> tuple[Point, ...]:
        box, qb = lay.actors[ai], lay.queues[qi]
        start, xl = box.port_out, qb.x - gap / 3
        if ai not in actor_col:  # from the strip above: along it, then down
            return (start, (xl, start[1]), (xl, qb.tail[1]), qb.tail)
        ac, qc = actor_col[ai], queue_col[qi]
        if qc > ac and row_of[qc] == row_of[ac]:  # level through the queue's column
            door = (qb.x, qb.tail[1])
            return (start, door, qb.tail) if door != qb.tail else (start, qb.tail)
        xr = start[0] + gap / 3
        y = gap_y[row_of[qc]] if qc > ac else track()  # the next row, or back: below
        return (start, (xr, start[1]), (xr, y), (xl, y), (xl, qb.tail[1]), qb.tail)

    def get_route(qi: int, ai: int, track: Callable[[], float]) -> tuple[Point, ...]:
        box, qb = lay.actors[ai], lay.queues[qi]
        xr = qb.right + gap / 3
        if ai not in actor_col:  # up to the strip
            return (qb.front, (xr, qb.front[1]), (xr, box.hand[1]), box.hand)
        end = box.port_in
        ac, qc = actor_col[ai], queue_col[qi]
        if ac > qc and row_of[qc] == row_of[ac]:
            door = (qb.right, qb.front[1])
            return (qb.front, door, end) if door != qb.front else (qb.front, end)
        xl = end[0] - gap / 3
        y = gap_y[row_of[ac]] if ac > qc else track()
        return (qb.front, (xr, qb.front[1]), (xr, y), (xl, y), (xl, end[1]), end)

    for u in topo.uses:
        if u.actor not in lay.actors or not 0 <= u.queue < len(lay.queues):
            continue
        if u.how & PUT_ON:
            edge = put_route(u.actor, u.queue, below)
            lay.edges.append(edge)
            lay.routes[(0, u.actor, u.queue)] = edge
        if u.how & GOT_FROM:
            edge = get_route(u.queue, u.actor, below)
            lay.edges.append(edge)
            lay.routes[(1, u.queue, u.actor)] = edge
    # a first put or get is animated before the layout knows its edge (the
    # event that adds the edge is still ahead of the displayed instant): every
    # other actor-queue pair gets a route too, one that never cuts across a
    # queue's row (a straight line back to a queue's tail would)
    spare = lane[0]
    for ai in lay.actors:
        for qi in range(len(lay.queues)):
            if (0, ai, qi) not in lay.routes:
                lay.routes[(0, ai, qi)] = put_route(ai, qi, lambda: spare)
            if (1, qi, ai) not in lay.routes:
                lay.routes[(1, qi, ai)] = get_route(qi, ai, lambda: spare)
    height = max(lane[0], bottom) + MARGIN
    lay.rect = Box(0.0, 0.0, width, height)
    return lay


def _bounded(q: QueueInfo) -> bool:
    return q.maxsize > 0 and q.kind not in ("SimpleQueue", "Pipe")
