"""Where each token should be, and how it gets there, frame by frame.

Every frame the reducer says where each item really is: in a queue slot (its
real position in the queue's contents), in a worker's hand (being made, put,
or worked on), or gone. Tokens move to those places with easing; an item that
passed through within one frame (put and got, or finished) still gets a short
flight from the ``PUT_DONE``/``GET_DONE`` events the frame applied. Past
``MAX_FLYING`` flights the rest are counted on a per-lane badge instead of
drawn: the frame stays fast and the counts stay exact.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from qsim.model import state as S
from qsim.model.events import Event, EventKind, item_number, item_origin
from qsim.model.internals import opened
from qsim.model.state import Reducer
from qsim.model.topology import Topology
from qsim.model.traced import is_sentinel_repr, token_label
from qsim.model.wire import VT_STR
from qsim.ui.diagram.colours import ColourKey
from qsim.ui.diagram.layout import Layout, Point
from qsim.ui.diagram.tokens import Look, Token
from qsim.ui.theme import Theme

K = EventKind
MOVE_NS = 300_000_000  # a flight between an actor and a queue
SHIFT_NS = 120_000_000  # moving up one slot inside a queue
FADE_NS = 300_000_000
FADE_IN_NS = 150_000_000  # an item appears in a worker's hand
MAX_FLYING = 300
NEW_FLIGHTS_PER_FRAME = MAX_FLYING * 16_000_000 // MOVE_NS  # ~16 at 60 frames/s
IN_QUEUE, IN_HAND = 0, 1
Place = tuple[int, int, int]


class TokenAnimator:
    """Keeps the token records of one diagram in step with the reducer."""

    def __init__(
        self,
        layout: Layout,
        topo: Topology,
        theme: Theme,
        colours: ColourKey | None = None,
        measure: Callable[[str], float] | None = None,
        label_em: float = 0.0,
    ) -> None:
        self.layout = layout
        self.topo = topo
        self.theme = theme
        self.colours = colours  # what a colour means (None: one per producer)
        #: a traced program's labels: their width in em (``measure``), the widest
        #: the layout has room for, and the widest shown that it has not (the
        #: view lays the diagram out again for it)
        self.measure = measure
        self.label_em = label_em
        self.wider = 0.0
        self.placed: dict[int, Token] = {}
        self.flyers: list[Token] = []
        #: items set off ahead of their put (see ``_set_off``): they arrive in
        #: their queue at the very instant the put happened, never counted in it
        #: before (item -> token in flight, time its put happens)
        self.arriving: dict[int, tuple[Token, int]] = {}
        #: queues drawn opened up: their slots hold the pipe's items, then the buffers'
        self.opened: set[int] = set()
        self.pool: list[Token] = []
        self.slots: list[list[int]] = [[] for _ in topo.queues]
        self.errors: set[int] = set()
        self.lanes: dict[tuple[int, int, int], deque[tuple[int, int]]] = {}
        self.lane_total: dict[tuple[int, int, int], int] = {}
        self.aggregated = 0  # flights counted on a badge rather than drawn, ever
        self._flown: set[int] = set()  # items set off ahead whose put is not applied yet
        self._since: dict[int, int] = {}  # item -> when its put/get of this frame began
        self.max_flying = MAX_FLYING
        producers = [a.index for a in topo.actors if a.role == "producer"]
        self.ordinal = {idx: n for n, idx in enumerate(producers)}
        self.role = {a.index: a.role for a in topo.actors}

    # ------------------------------------------------------------ looks
    def look(self, item: int, r: Reducer, text: str | None = None) -> Look:
        """``text``: a traced object's repr known before its put is applied."""
        if item < 0:
            return Look(True, self.theme.sentinel, "STOP")
        text = r.item_repr.get(item, text)  # a traced program's object, as its repr
        if text is not None and is_sentinel_repr(text):
            return Look(True, self.theme.sentinel, token_label(text))
        prio = r.priority.get(item)
        if self.colours is not None:
            prio = self.colours.remember(item, prio)
            color = self.colours.colour(item, prio)
        else:
            colors = self.theme.producers
            color = colors[self.ordinal.get(item_origin(item), 0) % len(colors)]
        size = r.entry_size.get(item, 1)
        return Look(
            False,
            color,
            str(item_number(item)) if text is None else token_label(text),
            priority=f"p{prio}" if prio is not None else "",
            batch=f"×{size}" if size > 1 else "",
            error=item in self.errors,
        )

    def _token(
        self, item: int, r: Reducer, t: int, label: bool = True, text: str | None = None
    ) -> Token:
        tok = self.pool.pop() if self.pool else Token()
        tok.item = item
        look = self.look(item, r, text)
        if not label and not look.sentinel:  # a short flight in a busy run: colour only
            look = Look(False, look.color, "", look.priority, look.batch, look.error)
        elif self.measure is not None:
            self._measure(look)
        tok.look = look
        tok.pix = None
        tok.born = t
        tok.linear = not label
        return tok

    def _set_look(self, tok: Token, r: Reducer) -> None:
        look = self.look(tok.item, r)
        if look != tok.look:
            tok.look, tok.pix = look, None
            if self.measure is not None:
                self._measure(look)

    def _measure(self, look: Look) -> None:
        assert self.measure is not None
        em = self.measure(look.text)
        if em > self.label_em:
            self.wider = max(self.wider, em)

    # ------------------------------------------------------------ places
    def _route(self, lane: tuple[int, int, int]) -> tuple[Point, ...]:
        """The edge a token follows: (0, actor, queue) in, (1, queue, actor) out,
        from door to hand (never across a queue's box)."""
        route = self.layout.routes.get(lane)
        kind, a, b = lane
        if kind == 0:
            if route is None:  # a put the layout has no edge for (a consumer's STOP put back)
                hand, qb = self._hand(a), self.layout.queues[b]
                start, row = hand or qb.tail, qb.row
                route = (start, qb.tail)
                if start[0] > row.x:  # from the far side: over the box, never across it
                    above, gap = row.y - row.h * 0.6, row.h * 0.6
                    route = (start, (start[0], above), (row.x - gap, above), qb.tail)
            return route
        hand = self._hand(b)
        if route is None:
            route = (self.layout.queues[a].front,)
        return (*route, hand) if hand is not None and hand != route[-1] else route

    def _hand(self, actor: int) -> Point | None:
        box = self.layout.actors.get(actor)
        return box.hand if box is not None else None

    def _wanted(self, r: Reducer) -> dict[int, tuple[Place, float, float]]:
        want: dict[int, tuple[Place, float, float]] = {}
        for qi, qb in enumerate(self.layout.queues):
            q = r.queues[qi]
            # opened up: the pipe's items first (front), then the feeder buffers'
            shown = opened(q, qb.slots).items if qi in self.opened else q.contents[: qb.slots]
            self.slots[qi] = shown
            for k, item in enumerate(shown):
                x, y = qb.slot_center(k)
                want[item] = ((IN_QUEUE, qi, k), x, y)
            # put, but its freeing get is not applied yet: waits at the back (a
            # program's tokens, as wide as reprs, have no room there: it is drawn
            # once it is in, as an item beyond the drawn slots is)
            if self.layout.token_w:
                continue
            for k, item in enumerate(r.queues[qi].overflow[:2]):
                x, y = qb.tail
                want[item] = ((IN_QUEUE, qi, qb.slots + k), x - qb.slot_w * (0.6 + k), y)
        for ai, box in self.layout.actors.items():
            a = r.actors[ai]
            if a.state in (S.FINISHED, S.CRASHED):
                continue
            hx, hy = box.hand
            if self.role[ai] in ("producer", "main"):
                if a.item and a.item not in want and a.item not in self.arriving:
                    want[a.item] = ((IN_HAND, ai, 0), hx, hy)
                continue
            for k, item in enumerate(a.holding):
                if k >= 3:
                    break
                if item not in want:
                    d = 5.0 * k
                    want[item] = ((IN_HAND, ai, k), hx + d, hy - d)
        return want

    # ------------------------------------------------------------ frame
    def update(
        self,
        r: Reducer,
        applied: list[Event],
        t: int,
        upcoming: list[Event] | None = None,
        shown_ns: int = 0,
    ) -> bool:
        """Bring the tokens to the reducer's state at animation time ``t``.

        ``upcoming``: the events just after the displayed instant ``shown_ns``;
        a put among them sets its token off now so that it lands at its time.
        Returns True if anything is drawn differently than before.
        """
        if upcoming:
            self._set_off(r, upcoming, t, shown_ns)
        put_by: dict[int, tuple[int, int]] = {}
        got_by: dict[int, tuple[int, int]] = {}
        PUT, GET, ERR, FAIL = K.PUT_DONE, K.GET_DONE, K.ERROR, K.ITEM_FAILED
        # a flight starts when its put or get happened, not when the frame shows
        # it: a busy frame (or a replay catching up) does not leave flights behind
        since = self._since
        since.clear()
        for e in applied:
            k = e[3]
            if shown_ns and k in (PUT, GET):
                since[e[4]] = t - max(0, shown_ns - e[0])
            if k == PUT:
                put_by[e[4]] = (e[2], e[5])
                if e[7] and self.colours is not None:  # got in this frame: keeps its colour
                    self.colours.remember(e[4], e[7])
            elif k == GET:
                got_by[e[4]] = (e[2], e[5])
            elif k in (ERR, FAIL) and e[4]:
                self._mark_error(e[4], r)
        want = self._wanted(r)
        placed = self.placed
        changed = bool(applied)
        for item in [i for i in placed if i not in want]:
            self._leave(placed.pop(item), t, put_by, got_by)
            changed = True
        for item, (place, x, y) in want.items():
            tok = placed.get(item)
            if tok is None:
                came = self.arriving.pop(item, None)
                if came is not None:  # it set off ahead of its put: it is here now
                    tok = came[0]
                    self.flyers.remove(tok)
                    self._set_look(tok, r)  # labelled in full once it rests
                    tok.jump(tok.x1, tok.y1, tok.a1)  # at the door, whatever the frame rate
                    if place[0] == IN_QUEUE:
                        tok.go(x, y, t, SHIFT_NS)
                    else:  # through the queue within a frame: out of its other door
                        self._go_out(tok, item, place, got_by, x, y, t)
                else:
                    tok = self._token(item, r, t)
                    start = self._origin(item, place, put_by, got_by)
                    if start is None or place[0] == IN_QUEUE:
                        # counted in the queue from now: drawn in it from now (a
                        # put that could not set off ahead appears in its slot)
                        tok.jump(x, y, 0.0)
                        tok.go(x, y, t, FADE_IN_NS)
                    else:
                        tok.jump(*start)
                        self._go_out(tok, item, place, got_by, x, y, t)
                tok.place = place
                placed[item] = tok
                changed = True
            elif tok.place != place:
                inside = tok.place is not None and tok.place[:2] == place[:2]
                leaving = not inside and tok.place is not None and tok.place[0] == IN_QUEUE
                if leaving:  # out of the queue from now: drawn out of it, at its door
                    qb = self.layout.queues[tok.place[1]]  # type: ignore[index]
                    tok.jump(*qb.front, tok.opacity)
                tok.place = place
                self._set_look(tok, r)
                # retargeted in flight (a busy queue moved up): keep the time left,
                # or tokens in a busy queue would never arrive
                left = tok.t0 + tok.dur - t
                if inside:
                    tok.go(x, y, t, max(SHIFT_NS, left) if left > 0 else SHIFT_NS)
                elif place[0] == IN_QUEUE:  # counted in this queue from now: drawn in it
                    tok.jump(x, y, tok.opacity)
                elif leaving:
                    self._go_out(tok, item, place, got_by, x, y, t)
                else:
                    tok.go(x, y, t, MOVE_NS)
                changed = True
        for item in [i for i in self.arriving if i in put_by]:
            tok = self.arriving.pop(item)[0]  # landed beyond the drawn slots
            tok.jump(tok.x1, tok.y1, tok.a1)
            tok.go(tok.x1, tok.y1, self._since.get(item, t), FADE_NS, a1=0.0)
        self._fly(put_by, got_by, want, r, t)
        for tok in placed.values():
            if tok.tick(t):
                changed = True
        keep = []
        for tok in self.flyers:
            if tok.tick(t):
                keep.append(tok)
            else:
                self.pool.append(tok)
        if keep or self.flyers:
            changed = True
        self.flyers = keep
        if self._expire_lanes(t):
            changed = True
        return changed

    def _origin(
        self,
        item: int,
        place: Place,
        put_by: dict[int, tuple[int, int]],
        got_by: dict[int, tuple[int, int]],
    ) -> Point | None:
        """Where a token appearing this frame comes from (None: fade in where it is)."""
        kind, idx, _ = place
        if kind == IN_QUEUE:
            who = put_by.get(item)
            if who is not None:
                return self._hand(who[0])
            # moved up from behind the drawn slots: simply there (in a fast run
            # the front slots change every frame; a slide would never arrive)
            return self.layout.queues[idx].slot_center(place[2])
        if self.role.get(idx) in ("consumer", "stage"):
            src = got_by.get(item)
            qi = src[1] if src is not None else self.topo.actors[idx].input_queue
            if 0 <= qi < len(self.layout.queues):
                return self.layout.queues[qi].front
        return None

    def _go_out(
        self,
        tok: Token,
        item: int,
        place: Place,
        got_by: dict[int, tuple[int, int]],
        x: float,
        y: float,
        t: int,
    ) -> None:
        """From a queue's front door along the edge to the hand at ``(x, y)``."""
        kind, actor, _ = place
        src = got_by.get(item)
        qi = src[1] if src is not None else self.topo.actors[actor].input_queue
        if kind != IN_HAND or not 0 <= qi < len(self.layout.queues):
            tok.go(x, y, t, MOVE_NS)
            return
        route = self._route((1, qi, actor))
        tok.jump(*route[0], tok.opacity)
        start = self._since.get(item, t)
        tok.go_along((*route[1:-1], (x, y)) if len(route) > 1 else ((x, y),), start, MOVE_NS)

    def _leave(
        self,
        tok: Token,
        t: int,
        put_by: dict[int, tuple[int, int]],
        got_by: dict[int, tuple[int, int]],
    ) -> None:
        """A token whose item left every drawn place: fly off and fade."""
        kind, idx, _ = tok.place or (IN_QUEUE, -1, 0)
        item = tok.item
        tok.place = None
        if len(self.flyers) >= self.max_flying:  # too busy to watch it go
            self.pool.append(tok)
            return
        self.flyers.append(tok)
        in_queue = kind == IN_QUEUE and 0 <= idx < len(self.layout.queues)
        if in_queue:  # out of the queue from now: drawn out of it from now, at its door
            qb = self.layout.queues[idx]
            tok.jump(*(qb.front if item in got_by else qb.tail), tok.opacity)
        start = self._since.get(item, t)
        if item in put_by and not in_queue:  # put into a queue beyond its drawn slots
            actor, qi = put_by[item]
            if 0 <= qi < len(self.layout.queues):
                tok.go_along(self._route((0, actor, qi)), start, MOVE_NS, a1=0.0)
                return
        if item in got_by:  # got and finished within one frame
            actor, qi = got_by[item]
            route = self._route((1, qi, actor))
            tok.jump(*route[0], tok.opacity)
            tok.go_along(route[1:] or route, start, MOVE_NS, a1=0.0)
            return
        dest: Point = (tok.x, tok.y)
        if kind == IN_HAND and self.role.get(idx) == "consumer":
            dest = (tok.x, tok.y - 16.0 * self.theme.token_scale)  # done: rises and fades
        tok.go(dest[0], dest[1], t, FADE_NS if dest == (tok.x, tok.y) else MOVE_NS, a1=0.0)

    def _fly(
        self,
        put_by: dict[int, tuple[int, int]],
        got_by: dict[int, tuple[int, int]],
        want: dict[int, tuple[Place, float, float]],
        r: Reducer,
        t: int,
    ) -> None:
        """Short flights for items that went through without resting in a drawn place."""
        queues = self.layout.queues
        flown = self._flown
        counted: dict[tuple[int, int, int], tuple[int, int]] = {}  # lane -> (n, ends)
        # a steady stream, not waves: at most a flight's share of the cap per frame
        room = min(self.max_flying - len(self.flyers), NEW_FLIGHTS_PER_FRAME)
        for flights, putting in ((put_by, True), (got_by, False)):
            for item, (actor, qi) in flights.items():
                if putting and item in flown:  # it set off ahead and has landed
                    flown.discard(item)
                    continue
                if item in want or not 0 <= qi < len(queues):
                    continue
                if self._hand(actor) is None:
                    continue
                lane = (0, actor, qi) if putting else (1, qi, actor)
                start = self._since.get(item, t)
                if start + MOVE_NS <= t:  # it flew and landed before this instant
                    continue
                if room <= 0:
                    n, expire = counted.get(lane, (0, 0))
                    counted[lane] = (n + 1, max(expire, start + MOVE_NS))
                    continue
                room -= 1
                tok = self._token(item, r, t, label=False)
                tok.place = None
                route = self._route(lane)
                tok.jump(*route[0])
                tok.go_along(route[1:] or route, start, MOVE_NS, a1=0.15)
                self.flyers.append(tok)
        for lane, (n, expire) in counted.items():
            self._count(lane, expire, n)

    def _set_off(self, r: Reducer, upcoming: list[Event], t: int, shown_ns: int) -> None:
        """Puts about to happen: their tokens leave the hand now and land in the
        queue exactly at the put's time (``shown_ns`` reaches it then)."""
        queues = self.layout.queues
        room = min(self.max_flying - len(self.flyers), NEW_FLIGHTS_PER_FRAME)
        for e in upcoming:
            if e[3] != K.PUT_DONE:
                continue
            item, actor, qi = e[4], e[2], e[5]
            if item in self.arriving or not 0 <= qi < len(queues):
                continue
            hand = self._hand(actor)
            if hand is None:
                continue
            if e[7] and self.colours is not None:  # its priority, before the put is applied
                self.colours.remember(item, e[7])
            tok = self.placed.get(item)
            if tok is not None and tok.place != (IN_HAND, actor, tok.place[2] if tok.place else 0):
                continue  # still in a queue (or another hand) at this instant: not yet
            tok = self.placed.pop(item, None)  # in the putting actor's hand until now
            if tok is None:
                if room <= 0:
                    continue  # too busy: counted on the lane's badge when it lands
                room -= 1
                text = str(e[6]) if e[8] == VT_STR else None  # a traced put: its object's repr
                tok = self._token(item, r, t, label=len(self.flyers) < 40, text=text)
                tok.jump(*hand)
            tok.place = None
            route = self._route((0, actor, qi))
            tok.go_along(route[1:] or route, t, max(1, e[0] - shown_ns), a1=1.0)
            self.flyers.append(tok)
            self.arriving[item] = (tok, e[0])
            self._flown.add(item)

    def snap(self) -> None:
        """Every token at its place now, no flight left (paused, finished)."""
        for tok in self.placed.values():
            tok.jump(tok.x1, tok.y1, tok.a1)
        for tok, _ in self.arriving.values():
            if tok in self.flyers:
                self.flyers.remove(tok)
            self.pool.append(tok)
        self.arriving.clear()
        self._flown.clear()
        self.pool.extend(self.flyers)
        self.flyers = []
        for dq in self.lanes.values():
            dq.clear()
        self.lane_total = dict.fromkeys(self.lane_total, 0)

    def _mark_error(self, item: int, r: Reducer) -> None:
        if len(self.errors) > 50_000:
            self.errors.clear()
        self.errors.add(item)
        tok = self.placed.get(item)
        if tok is not None:
            self._set_look(tok, r)

    # ------------------------------------------------------------ badges
    def _count(self, lane: tuple[int, int, int], expire: int, n: int) -> None:
        self.lanes.setdefault(lane, deque()).append((expire, n))
        self.lane_total[lane] = self.lane_total.get(lane, 0) + n
        self.aggregated += n

    def _expire_lanes(self, t: int) -> bool:
        changed = False
        for lane, dq in self.lanes.items():
            while dq and dq[0][0] <= t:
                self.lane_total[lane] -= dq.popleft()[1]
                changed = True
        return changed

    def badges(self) -> list[tuple[float, float, str]]:
        """(x, y, "+N") per lane with flights counted rather than drawn."""
        out = []
        for (kind, a, b), n in self.lane_total.items():
            if n <= 0:
                continue
            hand = self._hand(a if kind == 0 else b)
            if hand is None:
                continue
            if kind == 0:
                p, q = hand, self.layout.queues[b].tail
            else:
                p, q = self.layout.queues[a].front, hand
            # near the actor's end, where fanned lanes are apart; a level lane's
            # in the middle of its gap, clear of the boxes at both ends
            f = 0.5 if abs(q[1] - p[1]) < 1 else 0.3 if kind == 0 else 0.7
            # below the lane: above it are the queue's title and the tokens' tags
            y = p[1] + (q[1] - p[1]) * f + self.layout.token * 0.95
            out.append((p[0] + (q[0] - p[0]) * f, y, f"+{n}"))
        return out

    def in_flight(self) -> int:
        """Tokens moving between places: drawn flights plus counted ones."""
        return len(self.flyers) + sum(self.lane_total.values())

    def drawn(self) -> list[Token]:
        return [*self.placed.values(), *self.flyers]

    def clear_pixmaps(self) -> None:
        for tok in self.drawn():
            tok.pix = None
