"""Priority ordering: the order items arrived vs the order they were served.

For the scenario's PriorityQueue (or, without one, its first queue: then the
two orders are the same, which is the point of a FIFO) the panel shows both
orders as strips, the waiting time (put done -> get done) per priority level,
and warns when an item has waited much longer than items usually do: with a
steady stream of urgent items a low-priority one can wait forever (starve).
"""

from __future__ import annotations

from itertools import islice

from PySide6.QtWidgets import QLabel, QWidget

from qsim.model import panel_figures as pf
from qsim.model.events import describe_item, is_sentinel
from qsim.model.state import Reducer
from qsim.ui.panels.base import Figures, PanelBase
from qsim.ui.panels.history import PanelHistory
from qsim.ui.panels.order_strips import OrderStrips
from qsim.ui.panels.widgets import Banner, FigureTable, Headline
from qsim.ui.session import LiveSession
from qsim.ui.theme import is_dark


class PriorityPanel(PanelBase):
    """Arrival vs service order, waiting time per priority, starvation."""

    def __init__(
        self,
        session: LiveSession,
        history: PanelHistory | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(session, history, parent)
        self.setObjectName("priority_panel")
        self.qi = -1
        self.headline = Headline(self)
        self.strips = OrderStrips(self)
        self.strips.theme = self.theme
        self.table = FigureTable(("priority", "served", "mean wait", "max wait", "waiting now"))
        self.starving = Banner(self)
        self.starving.setObjectName("starvation")
        self.ties = QLabel(pf.TIES_LINE, self)
        self.ties.setWordWrap(True)
        self.ties.setObjectName("ties")
        self.arrange_parts(
            [self.headline, self.strips],
            [self.starving, self.table, self.ties],
            self.strips,
            grow_first=True,
        )
        self.rebuild()

    def rebuild(self) -> None:
        r = self.shown_reducer
        self.qi = -1
        if r is None or not r.queues:
            return
        prio = [q.index for q in r.queues if q.kind == "PriorityQueue"]
        self.qi = prio[0] if prio else 0
        self.ties.setVisible(bool(prio))

    def levels(self, r: Reducer) -> list[int]:
        """Priority levels the producers use (and any seen), lowest number first."""
        sc = self.session.scenario
        levels: set[int] = set()
        if sc is not None and 0 <= self.qi < len(r.queues):
            qid = r.queues[self.qi].id
            for p in sc.producers:
                if p.queue == qid:
                    levels.update(p.priorities or (0,))
        obs = self.history.observer
        if obs is not None and self.qi in obs.waits:
            levels.update(obs.waits[self.qi])
            levels.update(pr for _, pr, _ in obs.arrivals[self.qi])
        return sorted(levels)

    def refresh_text(self, r: Reducer) -> None:
        obs = self.history.observer
        if obs is None or self.qi not in obs.arrivals:
            self._figures = {}
            return
        q = r.queues[self.qi]
        t = self.history.t
        names = r.topology.names
        fig: Figures = {"queue": q.id}
        is_prio = q.kind == "PriorityQueue"
        self.headline.show_text(
            f"{q.id}: PriorityQueue — the lowest number is served first"
            if is_prio
            else f"{q.id} is a FIFO {q.kind}: items leave in the order they came"
        )
        k = self.strips.capacity()  # label only what fits in the strips
        arr = list(islice(reversed(obs.arrivals[self.qi]), k))[::-1]
        srv = list(islice(reversed(obs.services[self.qi]), k))[::-1]
        arrivals = [(i, describe_item(i, names), p) for i, p, _ in arr]
        services = [(i, describe_item(i, names), p) for i, p, _, _ in srv]
        levels = self.levels(r)
        self.strips.set_entries(arrivals, services, levels)
        fig["arrival_order"] = " ".join(label for _, label, _ in arrivals)
        fig["service_order"] = " ".join(label for _, label, _ in services)
        waiting: dict[int, int] = {}
        if is_prio:
            for item in q.contents:
                if not is_sentinel(item):
                    p = r.priority.get(item, 0)
                    waiting[p] = waiting.get(p, 0) + 1
        else:  # one level: every entry waiting in the FIFO
            waiting[0] = q.depth
        stats = obs.waits[self.qi]
        self.table.set_rows(len(levels))
        for row, level in enumerate(levels):
            st = stats.get(level, pf.WaitStats())
            self.table.set_cell(row, 0, f"p{level}")
            self.table.set_cell(row, 1, str(st.count))
            self.table.set_cell(row, 2, pf.fmt_s(st.mean_ns) if st.count else "–")
            self.table.set_cell(row, 3, pf.fmt_s(st.max_ns) if st.count else "–")
            self.table.set_cell(row, 4, str(waiting.get(level, 0)))
            fig[f"p{level}.served"] = st.count
            fig[f"p{level}.mean_wait_s"] = st.mean_ns / 1e9
            fig[f"p{level}.max_wait_s"] = st.max_ns / 1e9
            fig[f"p{level}.waiting"] = waiting.get(level, 0)
        threshold = pf.starvation_threshold_ns(stats.values())
        starving = pf.starving_items(r, self.qi, t, threshold) if is_prio else []
        text = ""
        if starving:
            item, prio, waited = starving[0]
            more = f" ({len(starving) - 1} more)" if len(starving) > 1 else ""
            text = (
                f"Starving: {describe_item(item, names)} (p{prio}) has waited "
                f"{pf.fmt_s(waited)}, over {pf.fmt_s(threshold)}{more}: "
                "more urgent items keep overtaking it."
            )
        self.starving.show_text(text)
        fig["starving"] = text
        fig["ties"] = pf.TIES_LINE if is_prio else ""
        self._figures = fig

    def restyle(self) -> None:
        self.starving.set_theme_colours(is_dark(self.theme))
        self.strips.theme = self.theme  # the diagram's colours for the same priorities
        self.strips.setFont(self.font())
        self.strips.update()
