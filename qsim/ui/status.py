"""The status bar: run state, run time, events/s, items done, frames/s."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from qsim.model.scenario import Scenario
from qsim.ui.session import LiveSession
from qsim.ui.theme import STATE_LABELS

STATUS_WORDS = {
    "idle": ("ready", "○"),
    "running": ("running", "▶"),
    "paused": ("paused", "⏸"),
    "finished": ("finished", "✔"),
    "stopped": ("stopped", "■"),
    "hung": ("HUNG", STATE_LABELS["hung"][1]),
    "replaying": ("replay", "▶"),
    "replay_paused": ("replay paused", "⏸"),
}


def planned_items(sc: Scenario) -> int:
    """Items the producers will make in all (0 when one runs for a duration)."""
    total = 0
    for p in sc.producers:
        n = len(p.records) if p.records else p.items
        if n <= 0:
            return 0
        total += n * p.count
    return total


SLOWED_TIP = (
    "The workers report events faster than the window can draw them, so they "
    "pause briefly after each batch until it catches up: the run is really "
    "slower while you watch. For full-speed figures run it headless: "
    "qsim run LESSON --headless"
)
SCRUB_TIP = (
    "You are looking at a past moment of the run, replayed from its recording; "
    "the worker processes go on meanwhile. Live (End) shows the run as it is now."
)
BEHIND_TIP = (
    "The window shows the run as it was this long ago, and plays faster until it "
    "has caught up: a lane that measures its speed runs without the window "
    "watching, then the window replays what really happened, at the time it happened."
)


class RunStatusBar(QStatusBar):
    """Permanent labels on the right; ``showMessage`` still works on the left."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("status_bar")
        self.state = self._label("run_state", "Run state")
        self.time = self._label("run_time", "Time since the run started")
        self.rate = self._label("events_rate", "Events the workers reported in the last second")
        self.items = self._label("items_done", "Items consumed (got and worked on) so far")
        self.fps = self._label("fps", "Frames drawn in the last second")
        self.slowed = self._label("slowed", SLOWED_TIP)
        self._widest_items = "99999/99999"
        self._reserve()

    def _label(self, name: str, tip: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setToolTip(tip)
        self.addPermanentWidget(label)
        return label

    def _reserve(self) -> None:
        """Room for the widest text each figure may show, so that a figure that
        grows a digit is never cut short before the bar is laid out again."""
        for label, widest in (
            (self.time, "t 9999.9 s"),
            (self.rate, "9999999 events/s"),
            (self.items, f"items done {self._widest_items}"),
            (self.fps, "999 fps"),
        ):
            label.setMinimumWidth(label.fontMetrics().horizontalAdvance(widest) + 8)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        kinds = (QEvent.Type.FontChange, QEvent.Type.StyleChange)
        if event.type() in kinds and hasattr(self, "_widest_items"):
            self._reserve()

    def show_state(self, status: str) -> None:
        word, glyph = STATUS_WORDS.get(status, (status, ""))
        self.state.setText(f"{glyph} {word}")
        alert = status == "hung"
        if self.state.property("alert") != alert:
            self.state.setProperty("alert", alert)
            self.state.style().unpolish(self.state)
            self.state.style().polish(self.state)

    def update_from(self, session: LiveSession) -> None:
        """Refresh the figures (called a few times a second, not every frame)."""
        running = session.run is not None
        t = session.shown_time
        self.time.setText(f"t {t:6.1f} s")
        self.rate.setText(f"{session.events_per_s:7.0f} events/s" if running else "")
        self.fps.setText(f"{session.fps:3.0f} fps" if running else "")
        behind = session.clock.behind_ns / 1e9
        if session.mode == "scrub":  # the run goes on; the views show its past
            live = max(0.0, (session.clock.t - session.run_started_ns) / 1e9)
            self.slowed.setText(f"◀◀ looking back: live is at {live:.1f} s")
            self.slowed.setToolTip(SCRUB_TIP)
        elif running and behind >= 1.0:  # replaying a measured lane, or a burst
            self.slowed.setText(f"▶▶ showing {behind:.1f} s behind")
            self.slowed.setToolTip(BEHIND_TIP)
        elif running and session.throttle_us:
            self.slowed.setText("▼ slowed for display")
            self.slowed.setToolTip(SLOWED_TIP)
        else:
            self.slowed.setText("")
        self.show_items(session)

    def show_items(self, session: LiveSession) -> None:
        """Items done at the displayed instant (every frame: the diagram's count)."""
        r, sc = session.reducer, session.scenario
        if r is None or sc is None:
            self.items.setText("")
            return
        done = r.acct.consumed
        planned = planned_items(sc)
        widest = f"{planned}/{planned}" if planned else "9999999"
        if len(widest) > len(self._widest_items):
            self._widest_items = widest
            self._reserve()
        text = f"items done {done}/{planned}" if planned else f"items done {done}"
        if text != self.items.text():
            self.items.setText(text)

    def new_run(self) -> None:
        self.slowed.setText("")
