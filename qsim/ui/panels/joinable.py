"""JoinableQueue completion: unfinished tasks, task_done() calls, the join() caller.

Every put() adds one unfinished task and every task_done() removes one;
join() returns when the count is 0. The panel plots the count over time,
says whether (and since when) someone waits in join(), counts each
consumer's task_done() calls, names the items still missing theirs, says so
when the count can never reach 0 again, and shows the ``ValueError`` the real
queue raised when task_done() was called too many times.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from qsim.model import panel_figures as pf
from qsim.model.events import describe_item
from qsim.model.state import CRASHED, Reducer
from qsim.ui.panels import plots
from qsim.ui.panels.base import Figures, PanelBase
from qsim.ui.panels.history import PanelHistory
from qsim.ui.panels.widgets import Banner, FigureTable, Headline
from qsim.ui.session import LiveSession
from qsim.ui.theme import STATE_LABELS, is_dark

SHOW_OUTSTANDING = 8
TOO_MANY = "task_done() called too many times"


class JoinablePanel(PanelBase):
    """Unfinished-task count, join() status, task_done() per consumer."""

    def __init__(
        self,
        session: LiveSession,
        history: PanelHistory | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(session, history, parent)
        self.setObjectName("joinable_panel")
        self.qi = -1
        self.headline = Headline(self)
        self.join_label = QLabel(self)
        self.join_label.setWordWrap(True)
        self.join_label.setObjectName("join_status")
        self.never = Banner(self)
        self.never.setObjectName("never_zero")
        self.td_error = Banner(self)
        self.td_error.setObjectName("task_done_error")
        self.table = FigureTable(("consumer", "task_done() calls", "state"))
        self.count_plot = plots.SinglePlot(
            self.history, self.theme, "unfinished tasks", "unfinished-tasks", self
        )
        self.plot = self.count_plot.plot
        self.curves = self.count_plot.curves
        self.arrange_parts(
            [self.headline, self.join_label, self.never, self.td_error, self.table],
            [self.count_plot],
            self.count_plot,
        )
        self.restyle()
        self.rebuild()

    def rebuild(self) -> None:
        r = self.shown_reducer
        self.qi = -1
        if r is None:
            return
        joinable = [q for q in r.queues if q.kind == "JoinableQueue"]
        if joinable:
            self.qi = joinable[0].index
        self.count_plot.set_series(
            [
                ("unfinished:" + q.id, f"{q.id} unfinished", plots.line_pen(n, self.theme))
                for n, q in enumerate(joinable)
            ]
        )
        self.table.set_rows(len(self._readers(r)))

    def _readers(self, r: Reducer) -> list[int]:
        return [a.index for a in r.topology.actors if a.input_queue == self.qi and self.qi >= 0]

    def refresh_text(self, r: Reducer) -> None:
        obs = self.history.observer
        if obs is None or self.qi < 0:
            self.headline.show_text("This scenario has no JoinableQueue.")
            self.join_label.setText("")
            self.never.show_text("")
            self.td_error.show_text("")
            self.table.set_rows(0)
            self.table.hide()
            self.count_plot.hide()
            self._figures = {"unfinished": 0.0}
            return
        self.table.show()
        self.count_plot.show()
        q = r.queues[self.qi]
        names = r.topology.names
        t = self.history.t
        fig: Figures = {"queue": q.id, "unfinished": q.unfinished}
        self.headline.show_text(
            f"{q.id}: {q.unfinished} unfinished task{'s' if q.unfinished != 1 else ''} "
            f"({q.puts} put, {q.puts - q.unfinished} marked done)"
        )
        wait = obs.join_wait.get(self.qi)
        who = r.topology.names[wait[0]] if wait else "main"
        status = pf.join_status(
            wait[1] if wait else 0, obs.join_done.get(self.qi, 0), self.history.t0, t, who, q.id
        )
        self.join_label.setText(status)
        fig["join"] = status
        readers = self._readers(r)
        self.table.set_rows(len(readers))
        for row, idx in enumerate(readers):
            a = r.actors[idx]
            label = STATE_LABELS.get(a.state, (a.state, ""))
            self.table.set_cell(row, 0, a.name)
            self.table.set_cell(row, 1, str(a.task_done))
            self.table.set_cell(row, 2, f"{label[1]} {label[0]}")
            fig[f"{a.name}.task_done"] = a.task_done
        outstanding = list(obs.outstanding[self.qi])
        fig["outstanding"] = " ".join(describe_item(i, names) for i in outstanding)
        reasons = pf.never_zero_reasons(r, self.session.scenario, self.qi, outstanding)
        text = ""
        if reasons:
            shown = ", ".join(describe_item(i, names) for i in outstanding[:SHOW_OUTSTANDING])
            more = len(outstanding) - SHOW_OUTSTANDING
            shown += f" and {more} more" if more > 0 else ""
            text = (
                f"{q.id}.join() can never return: the count cannot reach 0. "
                + " ".join(reasons)
                + (f" Outstanding: {shown}." if shown else "")
            )
        self.never.show_text(text)
        fig["never_zero"] = text
        err = ""
        if q.task_done_errors:
            times = "once" if q.task_done_errors == 1 else f"{q.task_done_errors} times"
            err = f"task_done() was called too many times ({times}): {q.last_task_done_error}"
        # the ValueError may also have ended a consumer (raised where nothing caught it)
        crashed = [
            r.actors[i]
            for i in readers
            if r.actors[i].state == CRASHED and TOO_MANY in r.actors[i].last_error
        ]
        if crashed:
            who = ", ".join(a.name for a in crashed)
            err += (" " if err else "") + (
                f"{who} crashed: the real queue raised {crashed[0].last_error}"
            )
        self.td_error.show_text(err)
        fig["task_done_error"] = err
        self._figures = fig

    def refresh_plots(self) -> None:
        self.count_plot.refresh()

    def restyle(self) -> None:
        self.count_plot.set_theme(self.theme, self.font_pt * 0.9)
        dark = is_dark(self.theme)
        self.never.set_theme_colours(dark)
        self.td_error.set_theme_colours(dark)
        if hasattr(self, "curves") and self.history.reducer is not None:
            self.rebuild()

    def export_csv(self, path: str) -> None:
        self.count_plot.export_csv(path)
