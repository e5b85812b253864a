"""Run controls: the actions (with shortcuts and tooltips) and the toolbar.

Every action's tooltip names its shortcut, so a lecturer can learn the keys by
hovering. The speed slider moves through fixed steps (0.1x to 4x); it writes
to the session and is written back under a signal blocker, so the two never
ping-pong.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QToolBar, QWidget

from qsim.ui.icons import run_icon

#: the speed slider's steps (time scale of work and production times)
SPEEDS = (0.1, 0.2, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)


def nearest_speed_index(speed: float) -> int:
    return min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - speed))


def speed_text(speed: float) -> str:
    return f"{speed:.2g}x" if speed < 1 else f"{speed:.1f}x"


def make_action(
    parent: QObject,
    text: str,
    tip: str,
    keys: tuple[str | QKeySequence.StandardKey, ...] = (),
    slot: Callable[[], object] | None = None,
    icon: QIcon | None = None,
    name: str = "",
) -> QAction:
    """An action whose tooltip and status tip say what it does and its keys."""
    act = QAction(text, parent)
    if icon is not None:
        act.setIcon(icon)
    seqs = [QKeySequence(k) for k in keys]
    if seqs:
        act.setShortcuts(seqs)
        shown = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in seqs)
        tip = f"{tip} ({shown})"
    act.setToolTip(tip)
    act.setStatusTip(tip)
    if name:
        act.setObjectName(name)
    if slot is not None:
        act.triggered.connect(lambda _checked=False: slot())
    return act


class SpeedSlider(QWidget):
    """A slider over ``SPEEDS`` with its value shown beside it."""

    speed_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("speed")
        self.caption = QLabel("Speed", self)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("speed_slider")
        self.slider.setRange(0, len(SPEEDS) - 1)
        self.slider.setPageStep(1)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setFixedWidth(130)
        # no keyboard focus: Left/Right belong to Step, +/- change the speed
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.value_label = QLabel(self)
        self.value_label.setObjectName("speed_value")
        self.value_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("0.25x") + 8)
        tip = "Speed of the workers' work and production times, 0.1x to 4x (+ / -)"
        for w in (self, self.slider, self.value_label):
            w.setToolTip(tip)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 0, 8, 0)
        lay.addWidget(self.caption)
        lay.addWidget(self.slider)
        lay.addWidget(self.value_label)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.slider.valueChanged.connect(self._on_value)
        self.set_speed(1.0)

    @property
    def speed(self) -> float:
        return SPEEDS[self.slider.value()]

    def set_speed(self, speed: float) -> None:
        """Show ``speed`` (nearest step) without emitting ``speed_changed``."""
        with QSignalBlocker(self.slider):
            self.slider.setValue(nearest_speed_index(speed))
        self.value_label.setText(speed_text(self.speed))

    def nudge(self, steps: int) -> None:
        self.slider.setValue(self.slider.value() + steps)

    def _on_value(self, index: int) -> None:
        self.value_label.setText(speed_text(SPEEDS[index]))
        self.speed_changed.emit(SPEEDS[index])


class RunActions(QObject):
    """The run actions of a window; the window connects their slots."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.playing = False
        self.icons: dict[str, QIcon] = {}
        self.play = make_action(
            parent, "Play", "Run the real worker processes", ("Space",), name="act_play"
        )
        self.step = make_action(
            parent,
            "Step",
            "Pause and let exactly one queue operation happen",
            ("S", "Right"),
            name="act_step",
        )
        self.stop = make_action(
            parent, "Stop", "Stop every worker process of this run", (), name="act_stop"
        )
        self.reset = make_action(
            parent,
            "Reset",
            "Stop and start this lesson again from the beginning",
            ("R",),
            name="act_reset",
        )
        self.faster = make_action(parent, "Faster", "Speed up", ("+", "="), name="act_faster")
        self.slower = make_action(parent, "Slower", "Slow down", ("-",), name="act_slower")
        self.speed = SpeedSlider(parent)
        self.set_icon_colour("#1A1A1A")

    def set_icon_colour(self, colour: str) -> None:
        """Redraw the toolbar icons in ``colour`` (the theme's text colour)."""
        self.icons = {n: run_icon(n, colour) for n in ("play", "pause", "step", "stop", "reset")}
        self.step.setIcon(self.icons["step"])
        self.stop.setIcon(self.icons["stop"])
        self.reset.setIcon(self.icons["reset"])
        self.show_playing(self.playing)

    def show_playing(self, playing: bool) -> None:
        """Play turns into Pause while the run is running."""
        self.playing = playing
        act = self.play
        if playing:
            act.setText("Pause")
            act.setIcon(self.icons["pause"])
            tip = "Pause the worker processes where they are (Space)"
        else:
            act.setText("Play")
            act.setIcon(self.icons["play"])
            tip = "Run the real worker processes (Space)"
        act.setToolTip(tip)
        act.setStatusTip(tip)

    def toolbar(self, parent: QWidget) -> QToolBar:
        bar = QToolBar("Run controls", parent)
        bar.setObjectName("toolbar_run")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for act in (self.play, self.step, self.stop, self.reset):
            bar.addAction(act)
        bar.addSeparator()
        bar.addWidget(self.speed)
        return bar
