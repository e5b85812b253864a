"""Throughput graphs: items/s, queue depths, time in queue, worker states, over time.

Four x-linked plots fed from the shared history: items/s per producer,
consumer and stage (1 s sliding window), depth per queue, time-in-queue p50
and p95 (of the last 500 items), and the worker-state timeline; Little's law
sits on top. The last 60 s are in view; drag or zoom to scroll back over the
whole run (kept up to an hour); pause freezes them; right-click exports PNG
and CSV. In a small dock the four plots become one, chosen in a list.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from qsim.model.state import Reducer
from qsim.ui.panels import plots
from qsim.ui.panels.base import Figures, PanelBase
from qsim.ui.panels.gantt import StateTimeline, legend_html
from qsim.ui.panels.history import STATE_NAMES, PanelHistory
from qsim.ui.panels.littles_law import LittlesLawBox
from qsim.ui.session import LiveSession

PER_ACTOR_MAX = 6  # more workers than this in a role: plot the group total instead
COMPACT_BELOW = (560, 340)  # width, height under which one plot is shown at a time
ROW_FROM = (1000, 240)  # at least this wide and this high (but short): four in a row
PLOT_NAMES = ("items/s", "queue depth", "time in queue", "worker states")


class ThroughputPanel(PanelBase):
    """Rates, depths, latency percentiles and the worker-state timeline."""

    def __init__(
        self,
        session: LiveSession,
        history: PanelHistory | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(session, history, parent)
        self.setObjectName("throughput_panel")
        self._law_fig: Figures = {}
        self._plot_fig: Figures = {}
        self.compact = False
        self.row = False
        self.law = LittlesLawBox(self)
        h, th = self.history, self.theme
        self.rate_plot = plots.SinglePlot(
            h, th, "items/s", "items-per-s", self, "items/s (last 1 s)", follow_button=False
        )
        follow = self.rate_plot.follow
        self.depth_plot = plots.SinglePlot(
            h, th, "items", "queue-depth", self, "queue depth", follow
        )
        self.lat_plot = plots.SinglePlot(
            h, th, "ms", "time-in-queue", self, "time in queue", follow
        )
        self.state_plot = plots.SinglePlot(
            h, th, "", "worker-states", self, "worker states", follow
        )
        self.timeline = StateTimeline(self.state_plot.plot, h, th)
        self.plots = (self.rate_plot, self.depth_plot, self.lat_plot, self.state_plot)
        self.rate_plot.follow.range_changed.connect(self.refresh_plots)
        self.chooser = QComboBox(self)
        self.chooser.addItems(PLOT_NAMES)
        self.chooser.setToolTip("The dock is small: one graph at a time")
        self.chooser.currentIndexChanged.connect(self._place)
        self.follow_button = QPushButton("Follow live", self)
        self.follow_button.setToolTip("Back to the last 60 s, moving with the run")
        self.follow_button.clicked.connect(self.follow.follow)
        self.follow_button.clicked.connect(self.refresh_plots)
        self.follow_button.hide()
        self.follow.following_changed.connect(lambda on: self.follow_button.setVisible(not on))
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        for n, p in enumerate(self.plots):
            self.grid.addWidget(p, n // 2, n % 2)
        top = QHBoxLayout()
        top.addWidget(self.law, 1)
        top.addWidget(self.chooser, 0, Qt.AlignmentFlag.AlignTop)
        lay = QVBoxLayout(self.body)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(4)
        lay.addLayout(top)
        lay.addLayout(self.grid, 1)
        lay.addWidget(self.follow_button, 0, Qt.AlignmentFlag.AlignRight)
        self.restyle()
        self.rebuild()
        self._place()

    # ------------------------------------------------------------ layout
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_compact()

    def _update_compact(self) -> None:
        scale = self.theme.font_scale  # bigger letters need bigger plots
        w, h = COMPACT_BELOW
        row_w, row_h = ROW_FROM
        row = self.width() >= row_w * scale and row_h * scale <= self.height() < h * scale
        compact = not row and (self.width() < w * scale or self.height() < h * scale)
        if (compact, row) != (self.compact, self.row):
            self.compact, self.row = compact, row
            self._place()

    def _place(self) -> None:
        """The four plots in a 2x2 grid, in one row (a wide, short dock), or
        (a small dock) the one chosen in the list."""
        self.chooser.setVisible(self.compact)
        chosen = self.chooser.currentIndex()
        for n, p in enumerate(self.plots):
            self.grid.removeWidget(p)
            self.grid.addWidget(p, 0 if self.row else n // 2, n if self.row else n % 2)
            p.setVisible(not self.compact or n == chosen)
        if self.session.status != "paused":  # plots that were hidden were not fed
            self.refresh_plots()

    @property
    def follow(self) -> plots.LiveFollow:
        return self.rate_plot.follow

    def rebuild(self) -> None:
        r = self.shown_reducer
        if r is None:
            return
        topo = r.topology
        specs: list[tuple[str, str]] = []
        for role, what in (("producer", "put"), ("consumer", "done")):
            actors = [a for a in topo.actors if a.role == role]
            if len(actors) <= PER_ACTOR_MAX:
                specs += [("rate:" + a.name, f"{a.name} {what}/s") for a in actors]
            elif role == "consumer":
                specs += [
                    ("out:" + g, f"{g} done/s") for g in dict.fromkeys(a.group for a in actors)
                ]
            else:
                specs += [("rate:" + a.name, f"{a.name} put/s") for a in actors[:PER_ACTOR_MAX]]
        for g in dict.fromkeys(a.group for a in topo.actors if a.role == "stage"):
            specs.append(("out:" + g, f"{g} out/s"))
        # a traced program's processes: what each put and got (its own, not its pool's)
        processes = [a for a in topo.actors if a.role == "process" and a.group != "internal"]
        for a in processes[:PER_ACTOR_MAX]:
            specs += [("rate:" + a.name, f"{a.name} put/s"), ("got:" + a.name, f"{a.name} got/s")]
        pen = plots.line_pen
        self.rate_plot.set_series(
            [(n, label, pen(k, self.theme)) for k, (n, label) in enumerate(specs)]
        )
        self.depth_plot.set_series(
            [("depth:" + q.id, q.id, pen(k, self.theme)) for k, q in enumerate(r.queues)]
        )
        self.lat_plot.set_series(
            [("lat_p50", "p50", pen(0, self.theme)), ("lat_p95", "p95", pen(1, self.theme))]
        )
        sc = self.session.scenario
        main_runs = sc is not None and bool(sc.main.sentinels or sc.main.join)
        rows = [a.index for a in topo.actors if a.role != "main" or main_runs]
        self.timeline.set_rows(rows, topo.names)
        self.state_plot.csv_names = [f"state:{a}" for a in rows]
        self.state_plot.set_legend(legend_html(self.theme))

    # ------------------------------------------------------------ refresh
    def refresh_text(self, r: Reducer) -> None:
        self._law_fig = self.law.show_law(self.history.littles_law())
        self._figures = {**self._plot_fig, **self._law_fig}

    def refresh_plots(self) -> None:
        h = self.history
        lo, hi = self.follow.apply(h.x.last(0.0))
        i0, i1 = h.window(lo, hi)
        for p in (self.rate_plot, self.depth_plot, self.lat_plot):
            if p.isVisibleTo(self):  # a plot hidden in a small dock costs nothing
                p.curves.feed(i0, i1)
        if self.state_plot.isVisibleTo(self):
            self.timeline.feed(lo, hi)
        names = h.reducer.topology.names if h.reducer is not None else []
        fig: Figures = {}
        for p in (self.rate_plot, self.depth_plot):
            for name in p.curves.curves:
                ring = h.series.get(name)
                fig[name] = ring.last(0.0) if ring is not None else 0.0
        for key, series in (("lat_p50_ms", "lat_p50"), ("lat_p95_ms", "lat_p95")):
            ring = h.series.get(series)
            fig[key] = ring.last(0.0) if ring is not None else 0.0
        for actor in self.timeline.rows:
            ring = h.states.get(actor)
            if ring is not None and ring.count:
                fig["state:" + names[actor]] = STATE_NAMES[int(ring.last())]
        self._plot_fig = fig
        self._figures = {**self._plot_fig, **self._law_fig}

    def restyle(self) -> None:
        for p in self.plots:
            p.set_theme(self.theme, self.font_pt * 0.85)
        self.timeline.set_theme(self.theme)
        if hasattr(self, "chooser"):
            self._update_compact()
        if self.history.reducer is not None:
            self.rebuild()
        else:
            self.state_plot.set_legend(legend_html(self.theme))

    # ------------------------------------------------------------ export
    def export_csv(self, path: str) -> None:
        names = [
            *self.rate_plot.curves.curves,
            *self.depth_plot.curves.curves,
            *self.lat_plot.curves.curves,
        ]
        names += ["L", "lamW", *(self.state_plot.csv_names or [])]
        plots.export_csv(path, self.history, names)
