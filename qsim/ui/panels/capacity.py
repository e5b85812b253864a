"""Capacity and backpressure: how full each queue is and how long producers block.

Per queue a fill gauge (depth / maxsize) and the depth over time against the
maxsize line; per producer the time blocked in ``put()`` (finished spans plus
the one going on), its share of the producer's life, and the ``queue.Full``
count of timed puts; a headline says who waits for whom. The maxsize and
put-timeout controls restart the run with the new values.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from qsim.model import panel_figures as pf
from qsim.model.scenario import Knob
from qsim.model.scenario_io import ScenarioError, apply_knob, knob_value
from qsim.model.state import BLOCKED_PUT, WAITING_GET, Reducer
from qsim.ui.panels import plots
from qsim.ui.panels.base import Figures, PanelBase
from qsim.ui.panels.history import PanelHistory
from qsim.ui.panels.widgets import Banner, FigureTable, FillBar, Headline, clear_layout
from qsim.ui.session import LiveSession
from qsim.ui.theme import is_dark

MAXSIZE_RANGE = (1, 50)
TIMEOUT_RANGE = (0.0, 10.0)


def maxsize_groups(r: Reducer) -> list[tuple[int, list[int]]]:
    """The bounded queues' maxsizes, largest first, each with its queues' indexes."""
    sizes: dict[int, list[int]] = {}
    for n, q in enumerate(r.queues):
        if q.maxsize and q.kind != "SimpleQueue":
            sizes.setdefault(q.maxsize, []).append(n)
    return sorted(sizes.items(), reverse=True)


def maxsize_label(r: Reducer, members: list[int]) -> str:
    """``"q maxsize=8"``, ``"q1, q2 maxsize=8"``, or ``"each queue's maxsize=8"``
    when every queue has that size."""
    size = r.queues[members[0]].maxsize
    if len(members) == len(r.queues) > 1:
        return f"each queue's maxsize={size}"
    return f"{', '.join(r.queues[n].id for n in members)} maxsize={size}"


class CapacityPanel(PanelBase):
    """Queue fill, depth over time, producers' time blocked on put()."""

    def __init__(
        self,
        session: LiveSession,
        history: PanelHistory | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(session, history, parent)
        self.setObjectName("capacity_panel")
        self.headline = Headline(self)
        self.headline.setObjectName("capacity_situation")
        self.error = Banner(self)
        self.gauges_box = QWidget(self)
        self.gauges_lay = QVBoxLayout(self.gauges_box)
        self.gauges_lay.setContentsMargins(0, 0, 0, 0)
        self.gauges_lay.setSpacing(2)
        self.gauges: dict[int, tuple[QLabel, FillBar, QLabel]] = {}
        self.table = FigureTable(("producer", "blocked in put()", "% of its time", "queue.Full"))
        self.maxsize = QSpinBox(self)
        self.maxsize.setRange(*MAXSIZE_RANGE)
        self.maxsize.setToolTip("Queue(maxsize=...): put() blocks while this many items wait")
        self.timeout = QDoubleSpinBox(self)
        self.timeout.setRange(*TIMEOUT_RANGE)
        self.timeout.setSingleStep(0.05)
        self.timeout.setDecimals(2)
        self.timeout.setSpecialValueText("none")
        self.timeout.setSuffix(" s")
        self.timeout.setToolTip(
            "put(timeout=...): give up after this long and raise queue.Full (none: wait forever)"
        )
        self.apply = QPushButton("Restart", self)
        self.apply.setToolTip("Run again with this maxsize and put timeout")
        self.apply.clicked.connect(self._on_apply)
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        self.maxsize_label = QLabel("maxsize", self)
        controls.addWidget(self.maxsize_label)
        controls.addWidget(self.maxsize)
        controls.addSpacing(8)
        controls.addWidget(QLabel("put timeout", self))
        controls.addWidget(self.timeout)
        controls.addStretch(1)
        controls.addWidget(self.apply)

        self.depth_plot = plots.SinglePlot(
            self.history, self.theme, "items in queue", "queue-depth", self
        )
        self.plot = self.depth_plot.plot
        self.curves = self.depth_plot.curves
        self.max_lines: list[pg.InfiniteLine] = []

        self.arrange_parts(
            [self.headline, self.gauges_box, self.table, controls, self.error],
            [self.depth_plot],
            self.depth_plot,
        )
        self.restyle()
        self.rebuild()

    # ------------------------------------------------------------ layout
    def rebuild(self) -> None:
        r = self.shown_reducer
        clear_layout(self.gauges_lay)
        self.gauges = {}
        if r is None:
            return
        for q in r.queues:
            box = QWidget(self.gauges_box)
            row = QHBoxLayout(box)
            row.setContentsMargins(0, 0, 0, 0)
            label = QLabel(q.id, box)
            bar = FillBar(box)
            full = QLabel("", box)
            full.setToolTip("queue.Full raised by put(timeout=...) on this queue")
            row.addWidget(label)
            row.addWidget(bar, 1)
            row.addWidget(full)
            self.gauges_lay.addWidget(box)
            self.gauges[q.index] = (label, bar, full)
        producers = [a for a in r.topology.actors if a.role == "producer"]
        self.table.set_rows(len(producers))
        specs = [
            ("depth:" + q.id, f"{q.id} depth", plots.line_pen(n, self.theme))
            for n, q in enumerate(r.queues)
        ]
        self.depth_plot.set_series(specs)
        for line in self.max_lines:
            self.plot.removeItem(line)
        self.max_lines = []
        # one line per maxsize: queues of the same size share it (and its label);
        # the labels sit apart along the lines, so that close lines stay legible
        groups = maxsize_groups(r)
        for k, (maxsize, members) in enumerate(groups):
            pen = plots.line_pen(members[0] if len(members) == 1 else -1, self.theme, 1.5)
            pen.setDashPattern([6, 4])
            line = pg.InfiniteLine(
                pos=maxsize,
                angle=0,
                pen=pen,
                label=maxsize_label(r, members),
                labelOpts={
                    "position": 0.98 - k * 0.9 / len(groups),
                    "anchors": [(1, 1), (1, 1)],
                    "color": self.theme.text,
                },
            )
            line.label.setFont(self.font())
            self.plot.addItem(line, ignoreBounds=False)
            self.max_lines.append(line)
        self._load_controls()

    def _target_queue(self) -> str:
        sc = self.session.scenario
        if sc is None:
            return ""
        fed = [p.queue for p in sc.producers]
        bounded = [q.id for q in sc.queues if q.id in fed and q.kind != "SimpleQueue"]
        return bounded[0] if bounded else (sc.queues[0].id if sc.queues else "")

    def _load_controls(self) -> None:
        sc = self.session.scenario
        ok = sc is not None and bool(sc.producers)
        for w in (self.maxsize, self.timeout, self.apply):
            w.setEnabled(ok)
        if sc is None or not sc.producers:
            return
        qid = self._target_queue()
        self.maxsize_label.setText(f"{qid} maxsize")
        spec = sc.queue(qid)
        knobs = self.knobs()
        if knobs is not None:  # a lesson's own knob may allow a narrower range
            mk, tk = knobs
            self.maxsize.setRange(int(mk.min), int(mk.max))
            self.timeout.setRange(tk.min, tk.max)
        self.maxsize.setValue(spec.maxsize or 1)
        self.maxsize.setEnabled(spec.kind != "SimpleQueue")
        self.timeout.setValue(sc.producers[0].put_timeout)

    def knobs(self) -> tuple[Knob, Knob] | None:
        """The maxsize and put-timeout knobs: the lesson's own if it has them."""
        sc = self.session.scenario
        if sc is None or not sc.producers:
            return None
        qid = self._target_queue()
        path_m = f"queues.{qid}.maxsize"
        path_t = f"producers.{sc.producers[0].id}.put_timeout"
        own = {k.path: k for k in sc.knobs}
        mk = own.get(path_m) or Knob("maxsize", path_m, *MAXSIZE_RANGE, default=1, restart=True)
        tk = own.get(path_t) or Knob(
            "put timeout", path_t, *TIMEOUT_RANGE, default=0.0, restart=True, step=0.1
        )
        return mk, tk

    def _on_apply(self) -> None:
        knobs = self.knobs()
        sc = self.session.scenario
        if knobs is None or sc is None:
            return
        mk, tk = knobs
        pairs = ((mk, float(self.maxsize.value())), (tk, float(self.timeout.value())))
        changes = [(k, v) for k, v in pairs if knob_value(sc, k) != v]
        if not changes:
            return
        try:
            # one restart for both: the first change goes into the scenario that
            # set_knob then restarts with the second
            for knob, value in changes[:-1]:
                self.session.scenario = apply_knob(sc, knob, value)
            self.session.set_knob(*changes[-1])
            self.error.show_text("")
        except ScenarioError as e:
            self.session.scenario = sc
            self.error.show_text(str(e))

    # ------------------------------------------------------------ refresh
    def refresh_text(self, r: Reducer) -> None:
        obs = self.history.observer
        t = self.history.t
        fig: Figures = {}
        for q in r.queues:
            if q.index not in self.gauges:
                continue
            _label, bar, full = self.gauges[q.index]
            bounded = bool(q.maxsize) and q.kind != "SimpleQueue"
            fill = pf.percent(q.depth, q.maxsize) if bounded else 0.0
            bar.set(
                q.depth,
                q.maxsize if bounded else max(1, q.max_depth),
                f"{q.depth} / {q.maxsize}" if bounded else f"{q.depth} (no maxsize)",
            )
            full.setText(f"Full: {q.full}")
            fig[f"{q.id}.depth"] = q.depth
            fig[f"{q.id}.maxsize"] = q.maxsize
            fig[f"{q.id}.fill_pct"] = fill
            fig[f"{q.id}.full"] = q.full
        blocked_pcts = []
        row = 0
        started = obs.started if obs is not None else {}
        ended = obs.ended if obs is not None else {}
        for info in r.topology.actors:
            if info.role != "producer":
                continue
            a = r.actors[info.index]
            blocked = pf.time_in_ns(a, BLOCKED_PUT, t)
            life = pf.lifetime_ns(started.get(info.index, 0), ended.get(info.index, 0), t)
            pct = pf.percent(blocked, life)
            if life:
                blocked_pcts.append(pct)
            self.table.set_cell(row, 0, a.name)
            self.table.set_cell(row, 1, pf.fmt_s(blocked))
            self.table.set_cell(row, 2, f"{pct:.0f}%")
            self.table.set_cell(row, 3, str(a.put_timeouts))
            fig[f"{a.name}.blocked_s"] = blocked / 1e9
            fig[f"{a.name}.blocked_pct"] = pct
            fig[f"{a.name}.put_timeouts"] = a.put_timeouts
            row += 1
        fig["situation"] = self._situation(r, blocked_pcts, started, ended, t)
        self.headline.show_text(str(fig["situation"]))
        self._figures = fig

    def _situation(
        self,
        r: Reducer,
        blocked_pcts: list[float],
        started: dict[int, int],
        ended: dict[int, int],
        t: int,
    ) -> str:
        qid = self._target_queue()
        qs = [q for q in r.queues if q.id == qid] or r.queues[:1]
        if not qs:
            return ""
        q = qs[0]
        wait = life = 0
        for info in r.topology.actors:
            if info.role in ("consumer", "stage") and info.input_queue == q.index:
                wait += pf.time_in_ns(r.actors[info.index], WAITING_GET, t)
                life += pf.lifetime_ns(started.get(info.index, 0), ended.get(info.index, 0), t)
        bounded = bool(q.maxsize) and q.kind != "SimpleQueue"
        mean_fill = pf.percent(self.history.mean_depth(q.index), q.maxsize) if bounded else None
        return pf.capacity_situation(
            sum(blocked_pcts) / len(blocked_pcts) if blocked_pcts else None,
            mean_fill,
            pf.percent(wait, life) if life else None,
            bounded,
            q.max_depth,
        )

    def refresh_plots(self) -> None:
        self.depth_plot.refresh()
        r = self.history.reducer
        if r is not None and self.max_lines:  # keep the maxsize lines in view
            top = max(q.maxsize for q in r.queues) * 1.25
            self.plot.setYRange(0, max(top, float(max(q.max_depth for q in r.queues))))

    def restyle(self) -> None:
        self.depth_plot.set_theme(self.theme, self.font_pt * 0.9)
        self.error.set_theme_colours(is_dark(self.theme))
        if hasattr(self, "curves") and self.history.reducer is not None:
            self.rebuild()

    def export_csv(self, path: str) -> None:
        self.depth_plot.export_csv(path)
