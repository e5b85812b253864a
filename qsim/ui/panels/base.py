"""What every topic panel shares: session wiring, throttling, pause, theme, figures.

A panel is fed only by the session's reducer and the shared ``PanelHistory``
(never by queue calls of its own). It listens to ``session.frame`` but redraws
its text at most ``TEXT_EVERY_NS`` apart and its plots only when the history
took a new sample (~10 Hz); a hidden panel (a dock behind another tab) only
keeps the history going and catches up when shown. While the run is paused
the plots stand still and the text changes only when a step applied events.

``figures()`` returns exactly the numbers and sentences the panel shows now,
so tests can compare them with the reducer at the same moment (``view_t``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPalette, QShowEvent
from PySide6.QtWidgets import QApplication, QFrame, QScrollArea, QVBoxLayout, QWidget

from qsim.model.scenario import Scenario
from qsim.model.state import Reducer
from qsim.ui.panels.history import PanelHistory
from qsim.ui.session import LiveSession
from qsim.ui.theme import LIGHT, Theme

TEXT_EVERY_NS = 100_000_000  # text: at most 10 redraws a second
PLOT_EVERY_NS = 200_000_000  # plots: 5 a second (a 60 s window moves ~2 px a step)
Figures = dict[str, float | str]


class PanelBase(QWidget):
    """Base of the topic panels (see the module docstring)."""

    #: redraw even when not running (a finished run shows its final figures)
    def __init__(
        self,
        session: LiveSession,
        history: PanelHistory | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.history = history if history is not None else PanelHistory()
        self.theme: Theme = LIGHT
        self.view_t = 0  # the moment (ns) the shown figures describe
        self.shown_now = 0  # the frame (now_ns) of the last redraw
        self.redraws = 0
        self._figures: Figures = {}
        self._stale = True
        self._sample_seen = -1
        self.plotted_now = 0  # the frame (now_ns) of the last plot refresh
        # the content scrolls instead of squeezing when the dock is smaller than
        # it needs (large presentation fonts): text never overlaps
        self.body = QWidget()
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        scroll.setBackgroundRole(QPalette.ColorRole.Window)
        scroll.viewport().setBackgroundRole(QPalette.ColorRole.Window)
        scroll.setWidget(self.body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.scroller = scroll
        session.frame.connect(self._on_frame)
        session.scenario_loaded.connect(self._on_scenario_loaded)
        session.topology_changed.connect(self._on_topology_changed)
        session.state_changed.connect(self._on_state_changed)

    # ------------------------------------------------------------ to override
    def rebuild(self) -> None:
        """The scenario (or its topology) changed: rebuild rows and curves."""

    def refresh_text(self, r: Reducer) -> None:
        """Redraw the numbers and sentences (set ``self._figures``)."""

    def refresh_plots(self) -> None:
        """Feed the plots from the history (called when it took a sample)."""

    def restyle(self) -> None:
        """Apply ``self.theme`` to what the palette does not reach (plots, colours)."""

    # ------------------------------------------------------------ public
    def figures(self) -> Figures:
        """What the panel shows now: name -> number or sentence."""
        return dict(self._figures)

    def set_theme(self, theme: Theme) -> None:
        """Colours and font scale (presentation mode: 1.5x)."""
        self.theme = theme
        font = QFont(QApplication.font())
        font.setPointSizeF(QApplication.font().pointSizeF() * theme.font_scale)
        self.setFont(font)
        self.restyle()
        self.redraw()

    @property
    def font_pt(self) -> float:
        return QApplication.font().pointSizeF() * self.theme.font_scale

    def redraw(self, now_ns: int | None = None) -> None:
        """Redraw text and plots from the current state, whatever the throttle says."""
        r = self.history.sync(self.session)
        self.history.catch_up()
        if self.history.version != getattr(self, "_built_version", -1):
            self._built_version = self.history.version
            self.rebuild()
        self.view_t = self.history.t
        self.shown_now = now_ns if now_ns is not None else self.history.now
        self.redraws += 1
        self._stale = False
        if r is not None:
            self.refresh_text(r)
        if self.history.samples == self._sample_seen or self.session.status == "paused":
            return
        live = self.session.run is not None
        if live and now_ns is not None and now_ns - self.plotted_now < PLOT_EVERY_NS:
            return
        self._sample_seen = self.history.samples
        self.plotted_now = now_ns or 0
        self.refresh_plots()

    # ------------------------------------------------------------ session
    def _on_frame(self, now_ns: int) -> None:
        self.history.update(self.session, now_ns)
        if not self.isVisible():
            self._stale = True
            return
        s = self.session
        if s.status == "paused" and not s.applied:
            return
        if s.run is not None and now_ns - self.shown_now < TEXT_EVERY_NS:
            return
        self.redraw(now_ns)

    def _on_scenario_loaded(self, _sc: Scenario) -> None:
        self.history.sync(self.session)
        self.redraw()

    def _on_topology_changed(self, _topology: object) -> None:
        self.history.sync(self.session)
        self.rebuild()
        self.redraw()

    def _on_state_changed(self, status: str) -> None:
        if status != "running" and self.isVisible():
            self.redraw()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.redraw()
