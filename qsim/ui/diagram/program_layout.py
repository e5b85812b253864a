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
go back left (results back to main) runs below its row. Within a column,
rows follow the order things appeared, so a new process or queue is added
at the end of its column and the others keep their rows.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from qsim.model.topology import GOT_FROM, PUT_ON, QueueInfo, Topology
from qsim.ui.diagram.layout import (
    ActorBox,
    Box,
    Layout,
    Measure,
    QueueBox,
    approx_width,
    queue_title,
)
from qsim.ui.diagram.layout_parts import MIN_FONT
from qsim.ui.diagram.program_roles import (
    INTERNAL,
    actor_column,
    drawn_topology,
    roles,
    traced_counter,
)
from qsim.ui.diagram.program_routes import MARGIN, Router
from qsim.ui.diagram.token_width import body_width

__all__ = ["INTERNAL", "drawn_topology", "program_layout", "roles", "traced_counter"]

COMPACT_OVER = 6  # more processes than this in a column: one-line boxes
#: the smallest picture: a 1:1 program fills the view as it will at the end,
#: so the first process and queue are not drawn huge and then shrink
MIN_COLUMNS = 3
STATE_SAMPLES = ("blocked on put", "waiting on get", "waiting in join()", "crashed (exit -15)")
#: a queue of wide tokens may be this much wider than the same number of
#: narrow slots; it then shows fewer slots (at least 3) and "+N more"
WIDE_ROW = 1.6
ROW_GAP = 44.0  # between two rows: the corridor paths run along (and the tokens on them)


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
    token_w: float  # a token's widest body (its label's)
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
            return self.queue_h + 10.0 * self.fs
        if self.compact.get(col):
            return self.small_h + 8.0 * self.fs
        return self.tall_h + 12.0 * self.fs + self.below(col)

    def below(self, col: int) -> float:
        """Room under each box of ``col`` for the token its process holds: a
        token as wide as a repr would cover the box's words (a one-line box in a
        crowded column holds it on its side instead)."""
        return 0.0 if self.compact.get(col) else self.token + 4.0 * self.fs

    def first_h(self, col: int) -> float:
        """Height of an actor box in ``col``."""
        return self.small_h if self.compact.get(col) else self.tall_h

    def height(self, col: int) -> float:
        members = self.qcols.get(col) or self.cols.get(col) or []
        return len(members) * self.pitch(col)


def program_layout(
    topo: Topology,
    font_scale: float = 1.0,
    token_scale: float = 1.0,
    measure: Measure = approx_width,
    view: tuple[float, float] = (1200.0, 800.0),
    max_slots: int = 12,
    label_em: float = 0.0,
) -> Layout:
    """Boxes, edges and routes for a traced program (``topo``: its drawn topology).

    A long chain of queues is wrapped onto a second (third) row when that lets
    a view of size ``view`` draw it larger; it goes on left to right, below. A
    queue shows at most ``max_slots`` slots (fewer when there are several, or
    when its tokens are wide). Sizes follow the lessons' layout (``layout``), so
    the boxes' texts fit; slots, hands and the gaps between columns fit a token
    whose label is ``label_em`` wide (see ``token_width``).
    """
    plan = _plan(topo, font_scale, token_scale, measure, max_slots, label_em)
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


def _plan(
    topo: Topology, fs: float, ts: float, measure: Measure, max_slots: int, label_em: float
) -> _Plan:
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
    token_w = body_width(label_em, token)
    narrow_slot = token + 6.0 * ts
    slot_w = max(narrow_slot, token_w + 4.0 * ts)
    row_h = token + 7.0 * ts
    font = 12.5 * fs
    small = MIN_FONT * fs
    state_w = max(measure(t, small, False) for t in STATE_SAMPLES) + 18.0 * fs
    counter_w = measure("put 9999 · got 9999", small, False)
    compact = {c: len(m) > COMPACT_OVER for c, m in cols.items()}
    col_w: dict[int, float] = {}
    for col, members in cols.items():
        longest = max(measure(topo.actors[i].name, font, True) for i in members)
        if compact[col]:
            w = token * 0.62 + 8 * fs + longest + 10 * fs + state_w + counter_w
            col_w[col] = max(w + 14 * fs, 150.0 * fs)
        else:  # its token is held below it
            inner = max(longest, state_w, counter_w)
            col_w[col] = max(16 * fs + inner, 120.0 * fs, token_w + 8 * fs)
    visible = min(max_slots, 12 if len(qcols) <= 1 else 8 if len(qcols) == 2 else 6)
    # wide tokens: fewer slots (what does not fit is "+N more")
    visible = min(visible, max(min(3, visible), int(visible * narrow_slot * WIDE_ROW // slot_w)))
    qslots: dict[int, int] = {}
    for col, qmembers in qcols.items():
        widest = 0.0
        for qi in qmembers:
            q = topo.queues[qi]
            n = min(q.maxsize, visible) if _bounded(q) else visible
            qslots[qi] = max(1, n)
            widest = max(widest, qslots[qi] * slot_w + 8 * ts)
            widest = max(widest, measure(queue_title(q.id, q.kind, q.maxsize), font, True))
            widest = max(widest, measure("+99999 more 99999/99999 full", small, True))
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
        token_w,
        slot_w,
        row_h,
        font,
        # room between a process and its queue for a token flying in (a token
        # in a hand is under its box)
        max(48.0 * fs, 2.2 * token),
        max(3 * (small + 5.5 * fs), token + 12 * fs),
        max(small + 14.0 * fs, token + 6 * ts),
        # title, slots, the fill line and one more (unfinished tasks, Full raised)
        font * 1.5 + row_h + 4.0 * fs + 2 * (small + 3.0 * fs),
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
    off = gap / 3  # a path runs beside a column a third of a gap out
    # room at the sides for paths that go round a column at the edge and for
    # the strip's paths along the margin (above and below: only the margin)
    margin = MARGIN * fs + off + 8.0 * fs
    rim = MARGIN * fs + 8.0 * fs
    width = max(*row_w, strip_total) + 2 * margin
    top = rim + (plan.small_h + 30.0 * fs if plan.strip else 0.0)
    # one row leaves room to grow; wrapped rows are as tall as they need (the
    # first boxes and queues: rows of a pipeline fit a 16:9 view legibly)
    min_h = 200.0 * fs if len(rows) == 1 else max(plan.tall_h + plan.below(0), plan.queue_h)
    # every column starts at its row's top, first boxes centred on one line: a
    # box added later goes below the others, and nothing that was drawn moves
    line = max(plan.tall_h, plan.queue_h) / 2
    col_x: dict[int, float] = {}
    col_top: dict[int, float] = {}
    gap_y: list[float] = []  # per row: the middle of the space above it
    for row, w in zip(rows, row_w, strict=True):
        gap_y.append(top - ROW_GAP / 2 * fs)
        content_h = max(max(plan.height(c) for c in row), min_h)
        x = (width - w) / 2
        for col in row:
            col_x[col] = x
            first = plan.queue_h if col in plan.qcols else plan.first_h(col)
            col_top[col] = top + line - first / 2
            x += plan.col_w[col] + gap
        top += content_h + ROW_GAP * fs
    bottom = top - ROW_GAP * fs
    lay = Layout(token=plan.token, font_px=plan.font, columns=plan.n_cols, token_w=plan.token_w)

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
    # a token in a hand lies under its box, on the side its queue is (a stage's
    # in the middle: in and out); a one-line box holds it on its side
    tw = plan.token_w
    for col, members in plan.cols.items():
        h = plan.first_h(col)
        y = col_top[col]
        bx, w = col_x[col], plan.col_w[col]
        for i in members:
            role = topo.actors[i].role
            mid = y + h / 2
            if plan.compact[col]:
                hand = (bx + w, mid) if role == "producer" else (bx, mid)
            else:
                side = {"producer": bx + w - tw / 2, "stage": bx + w / 2}.get(role, bx + tw / 2)
                hand = (side, y + h + 2.0 * fs + plan.token / 2)
            lay.actors[i] = ActorBox(
                bx, y, w, h, compact=plan.compact[col], hand=hand, port_in=(bx, mid),
                port_out=(bx + w, mid),
            )  # fmt: skip
            y += plan.pitch(col)
    x = (width - strip_total) / 2
    for i, w in zip(plan.strip, plan.strip_w, strict=True):
        y, h = rim, plan.small_h
        mid = y + h / 2
        lay.actors[i] = ActorBox(
            x, y, w, h, compact=True, hand=(x + w / 2, y + h), port_in=(x, mid),
            port_out=(x + w, mid),
        )  # fmt: skip
        x += w + 16.0 * fs

    router = Router(lay, off, fs, plan.cols, plan.qcols, row_of, gap_y, bottom, width, margin)
    for u in topo.uses:
        if u.actor not in lay.actors or not 0 <= u.queue < len(lay.queues):
            continue
        if u.how & PUT_ON:
            edge = router.put(u.actor, u.queue)
            lay.edges.append(edge)
            lay.routes[(0, u.actor, u.queue)] = edge
        if u.how & GOT_FROM:
            edge = router.get(u.queue, u.actor)
            lay.edges.append(edge)
            lay.routes[(1, u.queue, u.actor)] = edge
    # a first put or get is animated before the layout knows its edge (the
    # event that adds the edge is still ahead of the displayed instant): every
    # other actor-queue pair gets a route too (on the tracks, not drawn)
    router.spare = True
    for ai in lay.actors:
        for qi in range(len(lay.queues)):
            if (0, ai, qi) not in lay.routes:
                lay.routes[(0, ai, qi)] = router.put(ai, qi)
            if (1, qi, ai) not in lay.routes:
                lay.routes[(1, qi, ai)] = router.get(qi, ai)
    lay.rect = Box(0.0, 0.0, width, max(router.lowest, bottom) + rim)
    return lay


def _bounded(q: QueueInfo) -> bool:
    return q.maxsize > 0 and q.kind not in ("SimpleQueue", "Pipe")
