"""DiagramView: producers, queues and consumers, animated from the event stream.

The view owns no timer: the window calls ``apply_frame`` once per frame (after
the session applied that frame's events to the reducer), and the view brings
tokens, actor boxes and queue labels in step with the reducer. Animation time
is derived from the frame times, so a paused run freezes the tokens.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from PySide6.QtCore import QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QMouseEvent,
    QPainter,
    QResizeEvent,
    QShowEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsScene,
    QGraphicsView,
    QWidget,
)

from qsim.model import state as S
from qsim.model.events import Event
from qsim.model.internals import describe, opened
from qsim.model.lessons import lane_counter, mark_figures, plain_rate
from qsim.model.scenario import Scenario
from qsim.model.state import Reducer
from qsim.model.topology import Topology
from qsim.ui.diagram.actors import ActorItem, CountersItem
from qsim.ui.diagram.animator import TokenAnimator
from qsim.ui.diagram.colours import ColourKey, colour_key
from qsim.ui.diagram.edges import paint_edges
from qsim.ui.diagram.fitting import fit_scale, legible_layout, scene_text_sizes
from qsim.ui.diagram.hover import counters_text, display_state, explain, state_text, token_text
from qsim.ui.diagram.layout import Layout
from qsim.ui.diagram.legend import LegendItem
from qsim.ui.diagram.program_layout import drawn_topology, traced_counter
from qsim.ui.diagram.queue_item import QueueItem
from qsim.ui.diagram.token_look import label_em
from qsim.ui.diagram.token_width import EM_STEPS, em_class
from qsim.ui.diagram.tokens import TokenLayer, TokenPainter
from qsim.ui.theme import LIGHT, MIN_TEXT_PX, MIN_TEXT_PX_PRESENTING, Theme

ZOOM_RANGE = (0.5, 4.0)  # the user's zoom, times the fitted scale
ZOOM_STEP = 1.25


def _ms(ns: int) -> str:
    return f"{ns / 1e9:.1f} s"


class DiagramView(QGraphicsView):
    """The animated diagram of one scenario (see the module docstring).

    A traced program's diagram grows: when the reducer's topology gains a
    process, a queue or an edge, the scene is laid out again (existing boxes
    keep their column and row) and every token is placed afresh where the
    state says, so no frame contradicts itself across the change.

    Signals
    -------
    actor_clicked(int)
        an actor's box was clicked (its index): the code view shows its line.
    """

    actor_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        scene = QGraphicsScene(self)
        # thousands of moving tokens: no BSP index to keep up to date
        scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.setScene(scene)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # background and lanes never move: one cached opaque blit per frame
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setObjectName("diagram")
        self.theme: Theme = LIGHT
        self.scene_theme: Theme = LIGHT  # the theme's scales raised until text is legible
        self.presenting = False
        self.zoom = 1.0  # the user's zoom (Ctrl+wheel, Ctrl+plus/minus) on the fitted scale
        self.colours: ColourKey | None = None
        self.legend: LegendItem | None = None
        self._scales = (0.0, 0.0)
        self.scenario: Scenario | None = None
        self.topology: Topology | None = None  # what is drawn (a program's: with roles)
        self._source: Topology | None = None  # the topology that was drawn from
        self.layout_: Layout | None = None
        #: a traced program's tokens show reprs: the label width (em) the layout
        #: makes room for, grown when a wider one is shown (0: a lesson's numbers)
        self.label_em = 0.0
        self.reducer: Reducer | None = None
        self.actor_items: dict[int, ActorItem] = {}
        self.queue_items: list[QueueItem] = []
        self.painter = TokenPainter(self.theme, 22.0)
        self.layer: TokenLayer | None = None
        self.counters: CountersItem | None = None
        self.animator: TokenAnimator | None = None
        self._lanes: dict[int, tuple[int, int]] = {}
        #: watched queues the user opened up / closed (double-click), kept across relayouts
        self._opened: set[int] = set()
        self._closed: set[int] = set()
        self.paused = False
        self._anim_t = 0
        self._last_now = 0
        self._jumped = False
        self.setBackgroundBrush(QColor(self.theme.background))

    # ------------------------------------------------------------ setup
    def set_scenario(self, scenario: Scenario, topology: Topology) -> None:
        """Lay out ``scenario`` afresh (no tokens until the next frame)."""
        self.scenario, self._source = scenario, topology
        self.topology = drawn_topology(topology) if topology.traced else topology
        self.label_em = EM_STEPS[0] if topology.traced else 0.0
        self.reducer = None
        self._rebuild()

    def _rebuild(self) -> None:
        scene = self.scene()
        scene.clear()
        self.actor_items, self.queue_items = {}, []
        self.layer = None
        self.counters = None
        self.animator = None
        self.legend = None
        sc, topo = self.scenario, self.topology
        if sc is None or topo is None:
            return
        self.colours = key = colour_key(sc, topo, self.theme)
        fs, ts, lay = self._legible_layout()
        self._scales = (fs, ts)
        self.scene_theme = th = replace(self.theme, font_scale=fs, token_scale=ts)
        self.layout_ = lay
        rect = QRectF(lay.rect.x, lay.rect.y, lay.rect.w, lay.rect.h)
        scene.setSceneRect(rect)
        self.resetCachedContent()
        for qi, qb in enumerate(lay.queues):
            q = topo.queues[qi]
            item = QueueItem(
                qb,
                q.id,
                q.kind,
                q.maxsize,
                th,
                partial(self.queue_tooltip, qi),
                partial(self.toggle_inside, qi),
            )
            if q.internal:  # a Pool's or an executor's own: drawn grey
                item.setOpacity(0.55)
            scene.addItem(item)
            self.queue_items.append(item)
        for ai, box in lay.actors.items():
            name = topo.actors[ai].name
            title = "main process" if ai == 0 else name
            actor = ActorItem(box, title, th, partial(self.actor_tooltip, ai))
            scene.addItem(actor)
            self.actor_items[ai] = actor
        if lay.legend:
            self.legend = LegendItem(lay.legend, key, th)
            scene.addItem(self.legend)
        self.counters = CountersItem(list(self.actor_items.values()), rect)
        # measured lanes: queue -> (its consumer actor, its producer's payload bytes)
        self._lanes = {}
        if sc.run.measure_plain:
            payload = {p.queue: p.payload_bytes for p in sc.producers}
            for a in topo.actors:
                qid = topo.queues[a.input_queue].id if a.input_queue >= 0 else ""
                if a.role == "consumer" and qid in payload:
                    self._lanes[a.input_queue] = (a.index, payload[qid])
        scene.addItem(self.counters)
        self.painter = TokenPainter(th, lay.token, lay.token_w)
        self.layer = TokenLayer(self.painter, self.token_tooltip)
        self.layer.set_rect(rect.adjusted(-40, -40, 40, 40), rect)
        scene.addItem(self.layer)
        measure = label_em if self.label_em else None
        self.animator = TokenAnimator(lay, topo, th, key, measure, self.label_em)
        # a queue whose run reports its internals is drawn opened up at first
        self.animator.opened = {
            q.index for q in topo.queues if (q.observed and q.index not in self._closed)
        } | (self._opened & {q.index for q in topo.queues if q.observed})
        self._fit()

    def _legible_layout(self) -> tuple[float, float, Layout]:
        """Font and token scales at which the diagram, fitted into the view, is
        legible, and the layout at those scales (see ``fitting``)."""
        sc, topo = self.scenario, self.topology
        assert sc is not None and topo is not None
        return legible_layout(
            topo,
            sc,
            self.theme,
            self.colours,
            self._viewport_size(),
            self.min_text_px,
            self.presenting,
            self.label_em,
        )

    @property
    def min_text_px(self) -> float:
        """The smallest text allowed on screen: 11 px; presenting, 18 px on a
        1080 px high screen and as much in proportion on any other."""
        if not self.presenting:
            return MIN_TEXT_PX
        return max(MIN_TEXT_PX, MIN_TEXT_PX_PRESENTING * self.window().height() / 1080)

    def _viewport_size(self) -> QSize:
        # the whole view, whether a zoomed view shows scroll bars or not
        vp = self.contentsRect().size()
        if vp.width() < 200 or vp.height() < 150:  # not laid out yet
            return QSize(1280, 720)
        return vp

    def set_theme(self, theme: Theme, presenting: bool = False) -> None:
        """Colours, font/token scale, and the smallest text (18 px to present);
        relays out the scene. Presenting, the diagram fills the view."""
        self.theme = theme
        self.presenting = presenting
        self.setBackgroundBrush(QColor(theme.background))
        self._relayout()

    def _relayout(self) -> None:
        reducer = self.reducer
        self._rebuild()
        if reducer is not None:
            self.apply_frame(reducer, [], self._last_now)

    def set_paused(self, paused: bool) -> None:
        """Hold the picture still (paused, finished, stopped, hung: every token at
        its place, none in flight), or let it move; a step still animates its move.

        The window calls this on every change of the run's state; the picture is
        then completed (tokens a busy frame drew without their label get it).
        """
        self.paused = paused
        if self.layer is not None:
            self.painter.complete_next = True
            self.layer.update()

    def jump(self) -> None:
        """The shown instant jumped (a seek, a step back, back to live): animation
        time starts afresh at the next frame's instant, which shows every token at
        its place at once, labelled."""
        self._anim_t = self._last_now = 0
        self._jumped = True

    def snap(self) -> None:
        """Every token where the state says, at once (paused, finished, stopped)."""
        if self.animator is not None and self.layer is not None:
            self.animator.snap()
            self.layer.tokens = self.animator.drawn()
            self.layer.badges = self.animator.badges()
            self.layer.update()

    # ------------------------------------------------------------ frames
    def _clock(self, now_ns: int, shown_ns: int) -> int:
        """Animation time: the displayed instant (tokens move with the run, at its
        pace); the wall clock for a view fed by hand, with no instant given."""
        dt = now_ns - self._last_now if self._last_now else 0
        self._last_now = now_ns
        if shown_ns:
            self._anim_t = max(self._anim_t, shown_ns)
        elif not self.paused:
            self._anim_t += max(0, dt)
        return self._anim_t

    def apply_frame(
        self,
        reducer: Reducer,
        applied: list[Event],
        now_ns: int,
        shown_ns: int = 0,
        upcoming: list[Event] | None = None,
        settled: bool = True,
    ) -> None:
        """Bring the picture in step with ``reducer`` (``applied``: this frame's
        events), the state at the displayed instant ``shown_ns``; ``upcoming``:
        the events just after it (tokens set off for them); ``settled``: the
        displayed instant stopped moving (a held picture then snaps)."""
        self._follow(reducer)
        animator, layer = self.animator, self.layer
        if animator is None or layer is None:
            return
        self.reducer = reducer
        t = self._clock(now_ns, shown_ns)
        changed = animator.update(reducer, applied, t, upcoming, shown_ns)
        if animator.wider > self.label_em:  # a label the tokens have no room for yet
            self.label_em = em_class(animator.wider)
            self.reducer = reducer
            self._rebuild()  # every token placed afresh, as wide as it needs
            self.apply_frame(reducer, [], now_ns, shown_ns, upcoming, settled)
            return
        if self._jumped:
            self._jumped = False
            animator.snap()
            for tok in animator.placed.values():
                tok.born = 0  # born on the old time line: not "young" on the new one
            self.painter.complete_next = True
            changed = True
        if self.paused and not upcoming and settled and animator.in_flight():
            animator.snap()  # held still and played out: no token half-way
            changed = True
        topo = self.topology
        assert topo is not None
        counted = False
        for ai, item in self.actor_items.items():
            a = reducer.actors[ai]
            role = topo.actors[ai].role
            if topo.traced:
                counter = traced_counter(a)
            elif role == "main":
                counter = f"sent {a.sentinels_sent} STOP" if a.sentinels_sent else ""
            else:
                counter = counters_text(a, role)
            if counter != item.counter:
                item.counter = counter
                counted = True
            item.set_content(display_state(a), state_text(a))
            if item.hovered:
                item.refresh_tooltip()
        plain = mark_figures(reducer.marks) if self._lanes else {}
        for qi, qitem in enumerate(self.queue_items):
            lane = self._lanes.get(qi)
            figures = ""
            if lane is not None:  # a measured lane: its speed, and the plain program's
                a = reducer.actors[lane[0]]
                group = reducer.topology.actors[lane[0]].group
                figures = lane_counter(a, plain_rate(plain, group), lane[1])
            q = reducer.queues[qi]
            inside = opened(q, qitem.box.slots) if qi in animator.opened else None
            qitem.set_content(q, figures, inside, reducer.topology.names)
        if counted and self.counters is not None:
            self.counters.update()
        layer.now = t
        if changed:
            layer.tokens = animator.drawn()
            layer.badges = animator.badges()
            layer.update()

    def _follow(self, reducer: Reducer) -> None:
        """Lay out again if the run's topology grew: a worker joined a stage
        live, or a traced program started a process, made a queue or used one."""
        src = reducer.topology
        if self.topology is None or src is self._source:
            return
        self._source = src
        if src.traced:
            drawn = drawn_topology(src)
            if drawn == self.topology:
                return  # a change that draws the same (a placeholder got its name)
            self.topology = drawn
        elif len(src.actors) != len(self.topology.actors):
            self.topology = src
        else:
            return
        self.reducer = reducer
        self._rebuild()

    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        painter.fillRect(rect, QColor(self.theme.background))
        if self.layout_ is not None and self.scenario is not None:
            paint_edges(painter, self.layout_.edges, self.scene_theme)

    # ------------------------------------------------------------ geometry
    def _fit(self) -> None:
        if self.layout_ is None or self.scenario is None:
            return
        if self._scales != self._legible_layout()[:2]:  # a new size needs other letters
            self._relayout()
            return
        scale = fit_scale(self.layout_, self._viewport_size(), self.presenting) * self.zoom
        self.setTransform(QTransform.fromScale(scale, scale))
        zoomed = self.zoom > 1.0
        policy = (
            Qt.ScrollBarPolicy.ScrollBarAsNeeded
            if zoomed
            else Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        )
        self.setHorizontalScrollBarPolicy(policy)
        self.setVerticalScrollBarPolicy(policy)
        self.setDragMode(
            QGraphicsView.DragMode.ScrollHandDrag if zoomed else QGraphicsView.DragMode.NoDrag
        )
        if not zoomed:
            self.centerOn(self.scene().sceneRect().center())
        if self.layer is not None and self.animator is not None:
            self.painter.reset(
                self.scene_theme,
                self.layout_.token,
                scale,
                self.devicePixelRatioF(),
                self.min_text_px,
                self.layout_.token_w,
            )
            self.animator.clear_pixmaps()
            self.layer.update()

    def set_zoom(self, zoom: float) -> None:
        """The user's zoom on top of the fitted scale (1: the whole diagram fits)."""
        zoom = min(max(zoom, ZOOM_RANGE[0]), ZOOM_RANGE[1])
        if abs(zoom - 1.0) < 0.01:
            zoom = 1.0
        if zoom != self.zoom:
            self.zoom = zoom
            self._fit()

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom / ZOOM_STEP)

    def zoom_fit(self) -> None:
        self.set_zoom(1.0)

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Ctrl+wheel zooms around the mouse; a plain wheel scrolls a zoomed view."""
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120
            if steps:
                self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
                self.set_zoom(self.zoom * ZOOM_STEP**steps)
                self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
            event.accept()
            return
        super().wheelEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """A click on an actor's box: ``actor_clicked`` (the code view shows its line)."""
        pos = self.mapToScene(event.position().toPoint())
        for ai, item in self.actor_items.items():
            if item.sceneBoundingRect().contains(pos):
                self.actor_clicked.emit(ai)
                break
        super().mousePressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit()

    def text_sizes(self) -> list[tuple[str, str, float]]:
        """Every text in the scene as ``(what, text, pixels on screen)``."""
        return scene_text_sizes(self.scene(), self.transform().m11())

    # ------------------------------------------------------------ queries
    def drawn_queue_contents(self, queue_index: int) -> list[int]:
        """Item ids drawn in the queue's slots, front first."""
        if self.animator is None:
            return []
        return list(self.animator.slots[queue_index])

    def hand_items(self, actor_index: int) -> list[int]:
        """Item ids drawn in the actor's hand (made, being put, or worked on)."""
        if self.animator is None:
            return []
        placed = self.animator.placed.items()
        return [i for i, t in placed if t.place is not None and t.place[:2] == (1, actor_index)]

    def visible_slots(self, queue_index: int) -> int:
        """How many slots the queue shows (the rest is the "+N more" count)."""
        return self.layout_.queues[queue_index].slots if self.layout_ else 0

    def actor_state_text(self, actor_index: int) -> str:
        """The state label drawn on the actor ("" if it is not drawn)."""
        item = self.actor_items.get(actor_index)
        return item.label if item is not None else ""

    def toggle_inside(self, queue_index: int) -> None:
        """Open a watched queue up (feeder buffers, pipe) or close it (double-click)."""
        animator, topo = self.animator, self.topology
        if animator is None or topo is None or not topo.queues[queue_index].observed:
            return
        if queue_index in animator.opened:
            animator.opened.discard(queue_index)
            self._closed.add(queue_index)
            self._opened.discard(queue_index)
        else:
            animator.opened.add(queue_index)
            self._opened.add(queue_index)
            self._closed.discard(queue_index)
        if self.reducer is not None:
            self.apply_frame(self.reducer, [], self._last_now)

    def queue_tooltip(self, queue_index: int) -> str:
        """The queue's state in words; its insides when its run reports them."""
        r, topo = self.reducer, self.topology
        if topo is None:
            return ""
        q = topo.queues[queue_index]
        if q.kind in ("ManagerQueue", "PriorityQueue"):
            return (
                f"{q.id} lives in the manager's server process (the dashed box): every "
                "put() and get() is a message to that process and its answer back, which "
                "is why it is many times slower than a Queue. Only the proxy is here."
            )
        if r is None or not q.observed:
            return f"{q.id}: a {q.kind}"
        how = "close it" if self.animator and queue_index in self.animator.opened else "open it up"
        return f"{describe(r, r.queues[queue_index])}\n(double-click to {how})"

    def actor_tooltip(self, actor_index: int) -> str:
        """Why the actor is in its state, in words, with its time budget."""
        topo, r = self.topology, self.reducer
        if topo is None:
            return ""
        if r is None:
            return f"{topo.actors[actor_index].name} has not started yet (press Play)."
        a = r.actors[actor_index]
        text = explain(r, topo, actor_index)
        spent = {"working": a.working_ns, "blocked": a.blocked_ns, "waiting": a.waiting_ns}
        current = {S.WORKING: "working", S.BLOCKED_PUT: "blocked", S.WAITING_GET: "waiting"}
        now = max(self._last_now, r.last_t)
        if a.state in current and a.since_ns and now > a.since_ns:
            spent[current[a.state]] += now - a.since_ns  # the span still going on
        if a.state == S.JOIN_WAIT and a.since_ns and now > a.since_ns:
            spent["waiting"] += now - a.since_ns
        times = " · ".join(f"{k} {_ms(v)}" for k, v in spent.items())
        if topo.traced:  # a program's process: where it is, in its code
            line = f"{a.line[0].rsplit('/', 1)[-1]}:{a.line[1]}" if a.line else "?"
            return f"{text}\npid {a.pid} · line {line} · {traced_counter(a)} · {times}"
        return f"{text}\n{a.items} items · {times}"

    def token_tooltip(self, item: int) -> str:
        """The full story of a token: whose item, which number, its priority."""
        if self.topology is None:
            return ""
        return token_text(item, self.topology, self.reducer)

    def token_count(self) -> int:
        """Tokens drawn now, resting or in flight (badge counts excluded)."""
        return len(self.layer.tokens) if self.layer is not None else 0

    def in_flight(self) -> int:
        """Items moving between places: drawn flights plus those counted on badges."""
        return self.animator.in_flight() if self.animator is not None else 0
