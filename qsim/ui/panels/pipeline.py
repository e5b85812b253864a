"""Pipeline stages: one row per stage, its workers, backlog, rates and utilization.

A stage is a consumer group (workers reading the same input queue); rows go
in pipeline order. Items/s in and out are counted over the last second from
the events; utilization is the share of the workers' time spent working. The
stage that limits the pipeline (busiest, then fullest input) is marked. The
+ / - buttons start or retire a real worker process of that stage while the
run goes on (before a run they change the stage's worker count).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QToolButton,
    QWidget,
)

from qsim.model import panel_figures as pf
from qsim.model.scenario import Knob
from qsim.model.scenario_io import ScenarioError
from qsim.model.state import Reducer
from qsim.ui.panels import plots
from qsim.ui.panels.base import Figures, PanelBase
from qsim.ui.panels.history import PanelHistory
from qsim.ui.panels.widgets import FillBar, Headline, clear_layout
from qsim.ui.session import LiveSession

MAX_WORKERS = 16
HEADERS = ("stage", "workers", "input", "in/s", "out/s", "busy")
BOTTLENECK = "⚠ bottleneck"


class _Row:
    def __init__(self, parent: QWidget, group: str) -> None:
        self.group = group
        self.name = QLabel(group, parent)
        self.workers = QLabel("", parent)
        self.minus = QToolButton(parent)
        self.minus.setText("−")
        self.minus.setToolTip(f"Retire one {group} worker (it finishes its item first)")
        self.plus = QToolButton(parent)
        self.plus.setText("+")
        self.plus.setToolTip(f"Start one more {group} worker process now")
        self.depth = QLabel("", parent)
        self.rate_in = QLabel("", parent)
        self.rate_out = QLabel("", parent)
        self.busy = FillBar(parent)
        for w in (self.workers, self.depth, self.rate_in, self.rate_out):
            w.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def widgets(self) -> list[QWidget]:
        workers = QWidget(self.name.parentWidget())
        lay = QGridLayout(workers)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setHorizontalSpacing(3)
        lay.addWidget(self.minus, 0, 0)
        lay.addWidget(self.workers, 0, 1)
        lay.addWidget(self.plus, 0, 2)
        return [self.name, workers, self.depth, self.rate_in, self.rate_out, self.busy]

    def mark(self, bottleneck: bool) -> None:
        """Name the stage that limits throughput, in words as well as bold."""
        text = f"{self.group}\n{BOTTLENECK}" if bottleneck else self.group
        if self.name.text() != text:
            self.name.setText(text)
            f = self.name.font()
            f.setBold(bottleneck)
            self.name.setFont(f)


class PipelinePanel(PanelBase):
    """Stages in order with workers, backlog, rates, utilization, bottleneck."""

    def __init__(
        self,
        session: LiveSession,
        history: PanelHistory | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(session, history, parent)
        self.setObjectName("pipeline_panel")
        self.headline = Headline(self)
        self.grid_box = QWidget(self)
        self.grid = QGridLayout(self.grid_box)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(8)
        self.rows: list[_Row] = []
        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        self.message.setObjectName("pipeline_message")
        self.rate_plot = plots.SinglePlot(
            self.history, self.theme, "items/s out", "stage-throughput", self
        )
        self.arrange_parts(
            [self.headline, self.grid_box, self.message], [self.rate_plot], self.rate_plot
        )
        self.restyle()
        self.rebuild()

    def rebuild(self) -> None:
        r = self.shown_reducer
        clear_layout(self.grid)
        self.rows = []
        if r is None:
            return
        for col, text in enumerate(HEADERS):
            head = QLabel(text, self.grid_box)
            f = head.font()
            f.setBold(True)
            head.setFont(f)
            self.grid.addWidget(head, 0, col)
        for n, group in enumerate(pf.stage_order(r.topology), start=1):
            row = _Row(self.grid_box, group)
            row.plus.clicked.connect(lambda _=False, g=group: self.add_worker(g))
            row.minus.clicked.connect(lambda _=False, g=group: self.remove_worker(g))
            for col, w in enumerate(row.widgets()):
                self.grid.addWidget(w, n, col)
            self.rows.append(row)
        self.grid.setColumnStretch(5, 1)
        self.rate_plot.set_series(
            [
                ("out:" + row.group, f"{row.group} out/s", plots.line_pen(n, self.theme))
                for n, row in enumerate(self.rows)
            ]
        )

    # ------------------------------------------------------------ +/-
    def _live(self) -> bool:
        return self.session.run is not None and self.session.status in ("running", "paused")

    def add_worker(self, group: str) -> int:
        """+ : a new worker process now (or one more in the scenario before a run)."""
        if self._live():
            index = self.session.add_worker(group)
            topo = self.session.topology
            if index >= 0 and topo is not None:
                self.message.setText(f"Started {topo.actors[index].name}: a new {group} process.")
            else:
                self.message.setText(f"{group} has already stopped: no worker was added.")
            self.redraw()
            return index
        self._set_count(group, +1)
        return -1

    def remove_worker(self, group: str) -> bool:
        """- : the newest worker finishes its item and leaves (a stage keeps one)."""
        if self._live():
            ok = self.session.remove_worker(group)
            self.message.setText(
                f"One {group} worker finishes its current item and stops."
                if ok
                else f"{group} keeps at least one worker."
            )
            return ok
        self._set_count(group, -1)
        return False

    def _set_count(self, group: str, delta: int) -> None:
        sc = self.session.scenario
        if sc is None:
            return
        spec = next((c for c in sc.consumers if c.id == group), None)
        if spec is None:
            return
        knob = Knob(f"{group} workers", f"consumers.{group}.count", 1, MAX_WORKERS, spec.count)
        try:
            self.session.set_knob(knob, spec.count + delta)
        except ScenarioError as e:
            self.message.setText(str(e))
            return
        self.message.setText(f"{group} will start with {spec.count + delta} workers.")

    # ------------------------------------------------------------ refresh
    def refresh_plots(self) -> None:
        self.rate_plot.refresh()

    def restyle(self) -> None:
        self.rate_plot.set_theme(self.theme, self.font_pt * 0.9)
        if self.history.reducer is not None:
            self.rebuild()

    def refresh_text(self, r: Reducer) -> None:
        obs = self.history.observer
        t = self.history.t
        started = obs.started if obs is not None else {}
        ended = obs.ended if obs is not None else {}
        stages: list[pf.StageRow] = []
        rates = self.history.rates()
        for row in self.rows:
            g = row.group
            first = next(a for a in r.topology.actors if a.group == g)
            q = r.queues[first.input_queue]
            rin = rates.get("in:" + g, 0.0)
            rout = rates.get("out:" + g, 0.0)
            bounded = bool(q.maxsize) and q.kind != "SimpleQueue"
            stages.append(
                pf.StageRow(
                    group=g,
                    workers=pf.stage_workers(r, g),
                    input_queue=q.id,
                    depth=q.depth,
                    in_rate=rin,
                    out_rate=rout,
                    utilization=pf.stage_utilization(r, g, started, ended, t),
                    fill_pct=pf.percent(q.depth, q.maxsize) if bounded else 0.0,
                )
            )
        slowest = pf.bottleneck(stages) if self.session.run is not None or r.applied else ""
        fig: Figures = {"bottleneck": slowest}
        for row, st in zip(self.rows, stages, strict=True):
            row.workers.setText(str(st.workers))
            row.depth.setText(f"{st.input_queue}: {st.depth}")
            row.rate_in.setText(f"{st.in_rate:.1f}")
            row.rate_out.setText(f"{st.out_rate:.1f}")
            row.busy.set(st.utilization, 100.0, f"{st.utilization:.0f}%")
            row.mark(st.group == slowest)
            row.minus.setEnabled(st.workers > 1 or not self._live())
            g = st.group
            fig[f"{g}.workers"] = st.workers
            fig[f"{g}.depth"] = st.depth
            fig[f"{g}.in_per_s"] = st.in_rate
            fig[f"{g}.out_per_s"] = st.out_rate
            fig[f"{g}.utilization_pct"] = st.utilization
        if slowest:
            util = next(s.utilization for s in stages if s.group == slowest)
            head = (
                f"{slowest} limits the pipeline: its workers are busy {util:.0f}% of the time. "
                f"Give {slowest} another worker (+) to raise the throughput."
            )
        elif len(self.rows) > 1:
            head = "Each row is a stage; items flow from top to bottom."
        else:
            head = "One consumer group: add a worker (+) and watch out/s."
        self.headline.show_text(head)
        fig["headline"] = head
        self._figures = fig
