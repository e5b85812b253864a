"""The timeline under the diagram: any moment of the run, live or recorded.

A slider over the run's time with a tick for each mark (first blocked put,
hang, error, crash), play/pause, one event back or on, speed 0.1x-10x and
"Live". During a run the handle rides at the live end; dragging it back (or
Left) shows that moment replayed from the run's own recording while the
processes go on, and Live (End) returns. A recording file is moved through
the same way. The widgets write to the session and are written back under
signal blockers, so the slider and the session never ping-pong.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSettings, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPolygonF
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QToolTip,
    QWidget,
)

from qsim.record.source import MARK_WORDS
from qsim.ui.event_log import describe_event
from qsim.ui.icons import run_icon
from qsim.ui.session import LiveSession

SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0)
REFRESH_NS = 50_000_000  # the handle and labels follow a playing run 20 times a second
MARK_COLOURS = {
    "first_block": "#E69F00",  # Okabe-Ito orange
    "first_hang": "#D55E00",
    "first_error": "#CC79A7",
    "first_crash": "#B3261E",
}
MARK_KEYS = 9
#: how near (px) the mouse must be to a mark for its tooltip
MARK_HOVER_PX = 7


def seconds_text(s: float) -> str:
    """12.3 s, or 2:05.3 past a minute."""
    if s < 60:
        return f"{s:.1f} s"
    m, rest = divmod(s, 60)
    return f"{int(m)}:{rest:04.1f}"


def speed_text(speed: float) -> str:
    return f"{speed:g}x"


class TimeSlider(QSlider):
    """Run time in milliseconds; marks drawn as ticks; a click jumps to its place.

    ``marks``: (milliseconds, colour, tooltip) each.
    """

    hovered_mark = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setObjectName("timeline_slider")
        self.setRange(0, 0)
        self.setMouseTracking(True)
        # keys belong to the window: Left/Right step, Home/End, 1-9 marks
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.marks: list[tuple[int, str, str]] = []
        self.base_tip = ""

    def _option(self) -> QStyleOptionSlider:
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        return opt

    def x_of(self, value: int) -> int:
        """The x (px) where ``value`` lies on the groove."""
        opt = self._option()
        style = self.style()
        groove = style.subControlRect(
            QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, self
        )
        handle = style.subControlRect(
            QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, self
        )
        span = max(1, groove.width() - handle.width())
        pos = QStyle.sliderPositionFromValue(self.minimum(), self.maximum(), value, span)
        return groove.x() + handle.width() // 2 + pos

    def value_at(self, x: float) -> int:
        opt = self._option()
        style = self.style()
        groove = style.subControlRect(
            QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, self
        )
        handle = style.subControlRect(
            QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, self
        )
        span = max(1, groove.width() - handle.width())
        at = int(x) - groove.x() - handle.width() // 2
        return QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), at, span)

    def mark_near(self, x: float) -> tuple[int, str, str] | None:
        best = None
        for m in self.marks:
            d = abs(self.x_of(m[0]) - x)
            if d <= MARK_HOVER_PX and (best is None or d < best[0]):
                best = (d, m)
        return best[1] if best is not None else None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """A click on the groove jumps there (to a mark, if it is next to one),
        and the handle follows the mouse from there on."""
        if event.button() == Qt.MouseButton.LeftButton and self.isEnabled():
            opt = self._option()
            handle = self.style().subControlRect(
                QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, self
            )
            if not handle.contains(event.position().toPoint()):
                x = event.position().x()
                mark = self.mark_near(x)
                self.setValue(mark[0] if mark is not None else self.value_at(x))
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)
        if self.isSliderDown():
            return
        x = event.position().x()
        mark = self.mark_near(x)
        if mark is not None:
            tip = mark[2]
        elif self.maximum() > 0:
            tip = f"{seconds_text(self.value_at(x) / 1000)}: click to show this moment"
        else:
            tip = self.base_tip
        QToolTip.showText(event.globalPosition().toPoint(), tip, self)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self.marks or self.maximum() <= 0:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        h = self.height()
        size = max(5.0, h * 0.22)
        for ms, colour, _tip in self.marks:
            x = self.x_of(ms)
            p.setBrush(QColor(colour))
            p.drawPolygon(
                QPolygonF(
                    [QPoint(int(x - size), 0), QPoint(int(x + size), 0), QPoint(int(x), int(size))]
                )
            )
            p.drawRect(int(x) - 1, int(h - size), 2, int(size))
        p.end()


class Timeline(QWidget):
    """The timeline bar of a window's session (see the module docstring)."""

    def __init__(
        self, session: LiveSession, settings: QSettings | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("timeline")
        self.session = session
        self.settings = settings
        self._refreshed = 0
        self._generation = -1
        self._marks_key: tuple[tuple[str, int], ...] = ()
        self.icons: dict[str, object] = {}

        self.start = self._button("timeline_start", "Go to the start of the run (Home)")
        self.back = self._button(
            "timeline_back", "One event back: the state just before the last event (Left)"
        )
        self.play = self._button("timeline_play", "")
        self.forward = self._button("timeline_forward", "One event on (Right or S)")
        self.slider = TimeSlider(self)
        self.time = QLabel(self)
        self.time.setObjectName("timeline_time")
        self.time.setToolTip("The moment shown / the end of what is recorded")
        self.time.setMinimumWidth(self.fontMetrics().horizontalAdvance("00:00.0 / 00:00.0") + 8)
        self.marks_button = QToolButton(self)
        self.marks_button.setObjectName("timeline_marks")
        self.marks_button.setText("Marks")
        self.marks_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.marks_button.setMenu(QMenu(self.marks_button))
        self.marks_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.speed = QComboBox(self)
        self.speed.setObjectName("timeline_speed")
        for s in SPEEDS:
            self.speed.addItem(speed_text(s), s)
        self.speed.setToolTip("Speed of the replay when you play it from a past moment, 0.1x-10x")
        self.speed.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.live = QToolButton(self)
        self.live.setObjectName("timeline_live")
        self.live.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.live.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)

        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        lay.setSpacing(4)
        for w in (self.start, self.back, self.play, self.forward):
            lay.addWidget(w)
        lay.addWidget(self.slider, 1)
        for w2 in (self.time, self.marks_button, self.speed, self.live):
            lay.addWidget(w2)

        self.start.clicked.connect(session.go_start)
        self.back.clicked.connect(lambda: session.step_events(-1))
        self.forward.clicked.connect(session.step)
        self.play.clicked.connect(session.replay_toggle)
        self.live.clicked.connect(session.go_end)
        self.slider.valueChanged.connect(self._on_slider)
        self.speed.currentIndexChanged.connect(self._on_speed)
        session.source_changed.connect(self.refresh)
        session.state_changed.connect(lambda _s: self.refresh())
        session.scenario_loaded.connect(lambda _sc: self.refresh())
        session.frame.connect(self._on_frame)
        self._restore_speed()
        self.set_icon_colour(self.palette().windowText().color().name())
        self.refresh()

    def _button(self, name: str, tip: str) -> QToolButton:
        b = QToolButton(self)
        b.setObjectName(name)
        b.setToolTip(tip)
        b.setAutoRaise(True)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return b

    def set_look(self, colour: str, icon_px: int) -> None:
        """Icons in the theme's text colour, as large as the toolbar's (presentation)."""
        for b in (self.start, self.back, self.play, self.forward):
            b.setIconSize(QSize(icon_px, icon_px))
        self.set_icon_colour(colour)

    def set_icon_colour(self, colour: str) -> None:
        """Redraw the buttons' icons in ``colour`` (the theme's text colour)."""
        for button, name in (
            (self.start, "start"),
            (self.back, "step_back"),
            (self.forward, "step"),
        ):
            button.setIcon(run_icon(name, colour))
        self.icons = {n: run_icon(n, colour) for n in ("play", "pause")}
        self.refresh()

    # ------------------------------------------------------------ session -> widgets
    def _on_frame(self, now_ns: int) -> None:
        generation = self.session.generation
        if abs(now_ns - self._refreshed) >= REFRESH_NS or generation != self._generation:
            self._refreshed, self._generation = now_ns, generation
            self.refresh()

    def refresh(self) -> None:
        """Show the session's replay state (mode, span, instant, playing, speed)."""
        s = self.session
        st = s.replay_state()
        mode, start, end = st["mode"], st["start"], st["end"]
        has_span = end > start > 0
        span_ms = max(0, (end - start) // 1_000_000)
        shown_ms = max(0, min(span_ms, (st["t"] - start) // 1_000_000)) if has_span else 0
        with QSignalBlocker(self.slider):
            self.slider.setMaximum(span_ms)
            if not self.slider.isSliderDown():
                self.slider.setValue(shown_ms)
        self.slider.setEnabled(has_span)
        looking = mode != "live"
        for w in (self.start, self.back, self.marks_button):
            w.setEnabled(has_span)
        self.forward.setEnabled(looking or (s.run is not None and s.status == "paused"))
        self.play.setEnabled(looking)
        self.speed.setEnabled(True)
        playing = bool(st["playing"])
        self.play.setIcon(self.icons.get("pause" if playing else "play"))  # type: ignore[arg-type]
        if looking:
            self.play.setToolTip(
                "Pause the replay"
                if playing
                else "Play from the moment shown, at the speed set"
                + (" (Space)" if mode == "replay" else "")
            )
        else:
            self.play.setToolTip(
                "Drag the timeline back (or press Left) to look at a past moment, "
                "then play it from there"
            )
        self.time.setText(
            f"{seconds_text(shown_ms / 1000)} / {seconds_text(span_ms / 1000)}" if has_span else ""
        )
        self._show_live(mode)
        self._show_marks(start)
        self.slider.base_tip = (
            "Drag to any moment of the run (the workers go on; Live returns)"
            if mode != "replay"
            else "Drag to any moment of the recording"
        )

    def _show_live(self, mode: str) -> None:
        live = self.live
        live.setVisible(mode != "replay")
        if mode == "live":
            running = self.session.run is not None
            live.setText("● LIVE" if running else "Live")
            live.setEnabled(False)
            live.setToolTip("You see the run as it is now")
            live.setStyleSheet("color: #D32F2F; font-weight: bold;" if running else "")
        else:
            live.setText("▶▶ Live")
            live.setEnabled(True)
            live.setToolTip("Back to the run as it is now (End)")
            live.setStyleSheet("")

    def _show_marks(self, start: int) -> None:
        marks = self.session.marks()
        key = tuple(marks)
        if key == self._marks_key:
            return
        self._marks_key = key
        menu = self.marks_button.menu()
        menu.clear()
        ticks = []
        topo = self.session.topology
        for n, (name, t) in enumerate(marks):
            words = MARK_WORDS.get(name, name)
            e = self.session.mark_event(name)
            what = describe_event(e, topo) if e is not None and topo is not None else ""
            at = seconds_text(max(0, t - start) / 1e9)
            key_hint = f" ({n + 1})" if n < MARK_KEYS else ""
            tip = f"{words} at {at}{key_hint}" + (f": {what}" if what else "")
            ticks.append((max(0, (t - start) // 1_000_000), MARK_COLOURS.get(name, "#888"), tip))
            act = menu.addAction(f"{n + 1}  {words} — {at}")
            act.setToolTip(tip)
            act.triggered.connect(lambda _c=False, i=n: self.session.jump_to_mark(i))
        self.slider.marks = ticks
        self.slider.update()
        self.marks_button.setToolTip(
            "Jump to a moment that matters: the first blocked put(), a hang, an error, "
            "a crash (keys 1-9)"
            if marks
            else "No marks yet: they appear at the first blocked put(), hang, error or crash"
        )

    # ------------------------------------------------------------ widgets -> session
    def _on_slider(self, value: int) -> None:
        start, _end = self.session.timeline_span()
        if start:
            self.session.seek_time(start + value * 1_000_000)

    def _on_speed(self, index: int) -> None:
        speed = float(self.speed.itemData(index))
        self.session.set_replay_speed(speed)
        if self.settings is not None:
            self.settings.setValue("replay_speed", speed)

    def _restore_speed(self) -> None:
        speed = 1.0
        if self.settings is not None:
            try:
                speed = float(self.settings.value("replay_speed", 1.0))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                speed = 1.0
        index = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - speed))
        self.speed.setCurrentIndex(index)
        self.session.set_replay_speed(SPEEDS[index])
