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

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFont, QPalette, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QBoxLayout,
    QFrame,
    QLayout,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from qsim.model.scenario import Scenario
from qsim.model.state import Reducer
from qsim.ui.panels.history import PanelHistory
from qsim.ui.session import LiveSession
from qsim.ui.theme import DARK, LIGHT, Theme, presentation

QWIDGETSIZE_MAX = (1 << 24) - 1
#: a dock this much wider than tall (the window's bottom area) puts the two parts
#: of a panel side by side instead of one above the other
SIDE_BY_SIDE = (700, 2.0)
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
        self._shown_once = False  # themes are followed once built and shown
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

    # ------------------------------------------------------------ layout
    def arrange_parts(
        self,
        first: list[QWidget | QLayout],
        second: list[QWidget | QLayout],
        grows: QWidget,
        grow_first: bool = False,
    ) -> None:
        """Lay the body out in two parts (numbers, then plot), stacked in a tall
        dock and side by side in a wide, short one. ``grows`` (the plot, the
        strips) takes what is left; it is in the second part unless
        ``grow_first``."""
        self.split = QBoxLayout(QBoxLayout.Direction.TopToBottom, self.body)
        self.split.setContentsMargins(6, 6, 6, 6)
        self.split.setSpacing(6)
        self._grow_first = grow_first
        for items in (first, second):
            part = QWidget(self.body)
            col = QVBoxLayout(part)
            col.setContentsMargins(0, 0, 0, 0)
            col.setSpacing(4)
            for it in items:
                if isinstance(it, QLayout):
                    col.addLayout(it)
                else:
                    col.addWidget(it, 1 if it is grows else 0)
            if grows not in items:
                col.addStretch(1)  # keep the lines together, at the top
            else:
                self.grows_part = part
            self.split.addWidget(part)
        self._arrange()

    def _arrange(self) -> None:
        split = getattr(self, "split", None)
        if split is None:
            return
        w, h = self.width(), self.height()
        wide = w >= SIDE_BY_SIDE[0] and w >= SIDE_BY_SIDE[1] * h
        split.setDirection(
            QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
        )
        first, second = (1, 1) if wide else ((1, 0) if self._grow_first else (0, 1))
        split.setStretch(0, first)
        split.setStretch(1, second)
        # side by side, the plot is never taller than what the dock shows: when
        # the lines beside it need more and scroll, it keeps its x axis in view
        grows = getattr(self, "grows_part", None)
        if grows is not None:
            high = self.height() - 12 if wide else QWIDGETSIZE_MAX
            grows.setMaximumHeight(max(grows.minimumSizeHint().height(), high))
            split.setAlignment(grows, Qt.AlignmentFlag.AlignTop)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange()

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
    @property
    def shown_reducer(self) -> Reducer | None:
        """The state the panel shows: the history's, else (before it synced) the session's."""
        return self.history.reducer or self.session.reducer

    def figures(self) -> Figures:
        """What the panel shows now: name -> number or sentence."""
        return dict(self._figures)

    def set_theme(self, theme: Theme) -> None:
        """Colours and font scale (presentation mode: 1.5x)."""
        font = QFont(QApplication.font())
        font.setPointSizeF(QApplication.font().pointSizeF() * theme.font_scale)
        self.setFont(font)
        self._follow_theme(theme)

    def _follow_theme(self, theme: Theme) -> None:
        if theme == self.theme:
            return
        self.theme = theme
        self.restyle()
        self._sample_seen = -1  # restyling rebuilt the curves: feed them again
        self.redraw()

    def changeEvent(self, event: QEvent) -> None:
        """Follow the window's theme: its palette (light or dark) and its font size
        (the window scales every widget's font 1.5x to present)."""
        super().changeEvent(event)
        kinds = (QEvent.Type.PaletteChange, QEvent.Type.FontChange, QEvent.Type.StyleChange)
        if event.type() in kinds and self._shown_once:
            self._follow_theme(theme_of(self))

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
            self._sample_seen = -1
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
        self._sample_seen = -1
        self.redraw()

    def _on_state_changed(self, status: str) -> None:
        if status != "running" and self.isVisible():
            self.redraw()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._shown_once = True
        self._follow_theme(theme_of(self))
        if self._stale:
            self.redraw()


def theme_of(widget: QWidget) -> Theme:
    """The theme a widget is shown in, read off its palette and font size."""
    dark = widget.palette().window().color().lightness() < 128
    base = QApplication.font().pointSizeF()
    scaled = base > 0 and widget.font().pointSizeF() >= 1.25 * base
    theme = DARK if dark else LIGHT
    return presentation(theme) if scaled else theme
