"""The caption line under the diagram: the latest notable event in plain words.

It narrates ``reducer.notes`` ("P1 is blocked in put(): queue q is full (2/2)")
so a lecture audience can follow without reading the diagram; a hung run is
shown in an alert colour. A note is shown only while it is still true at the
displayed instant: "P1 is blocked" while P1 is blocked, a one-off event (a
sentinel got, a timeout) for a few seconds of the run after it happened.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from qsim.model.internals import story
from qsim.model.state import Note, Reducer
from qsim.ui.presenting import FitLabel

NEWS_NS = 3_000_000_000  # a one-off event is narrated this long (run time)

HINTS = {
    "idle": "Press Play (Space) to start the real worker processes, or Step (S) for one "
    "queue operation.",
    "running": "Running: every token is an item a real process put into or got from a queue.",
    "paused": "Paused: the workers wait where they are. Space resumes, S does one queue "
    "operation.",
    "finished": "The run is over: every worker has ended. R runs it again.",
    "stopped": "Stopped: every worker process has ended. R runs it again.",
    "replaying": "A recording plays: every token is an item a real process put or got "
    "when it was recorded.",
    "replay_paused": "A recording, paused: Space plays it, Left and Right step one event, "
    "drag the timeline to any moment.",
}
#: statuses whose picture is a moment of a run (narrated by its notes)
NARRATED = ("running", "paused", "replaying", "replay_paused")


def hung_text(reducer: Reducer, hang_after: float) -> str:
    """'C1 is hung: waiting on get with no progress for 3 s' for each hung actor,
    what a watched queue's insides explain first (a feeder thread stuck on a
    full pipe, a process that cannot exit)."""
    inside = story(reducer)
    parts = [
        f"{a.name} is hung: {a.hung_reason}"
        if a.hung_reason
        else f"{a.name} is hung: {a.state} with no progress for {hang_after:g} s"
        for a in reducer.actors
        if a.hung and not (inside and a.exit_wait)
    ]
    text = "; ".join(([inside] if inside else []) + parts)
    return text or "The run is hung: nothing has moved for a while."


def current_note(reducer: Reducer, shown_ns: int) -> Note | None:
    """The newest note still true at the displayed instant ``shown_ns``."""
    actors = reducer.actors
    for note in reversed(reducer.notes):
        if note.holds_while:
            if 0 <= note.actor < len(actors) and actors[note.actor].state == note.holds_while:
                return note
        elif shown_ns - note.t <= NEWS_NS:
            return note
    return None


class CaptionBar(FitLabel):
    """One line of narration at the bottom of the centre area (its font fits
    the width, never below the legible minimum; a longer line is cut short and
    shown whole in the tooltip)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("caption")
        self.set_tip("What just happened, in plain words")
        self._hung = ""
        self.set_alert(False)

    def set_alert(self, alert: bool) -> None:
        if self.property("alert") != alert:
            self.setProperty("alert", alert)
            self.style().unpolish(self)
            self.style().polish(self)

    def show_text(self, text: str, alert: bool = False) -> None:
        self.set_alert(alert)
        if text != self.text():
            self.setText(text)

    def show_status(
        self, status: str, reducer: Reducer | None, hang_after: float, shown_ns: int = 0
    ) -> None:
        """Narrate: the hang, else the newest note, else a hint for the status."""
        if status == "hung" and reducer is not None:
            # keep the words: once the run is stopped, nobody is marked hung any more
            if any(a.hung for a in reducer.actors) or not self._hung:
                self._hung = hung_text(reducer, hang_after)
            self.show_text("⚠ " + self._hung, alert=True)
            return
        if reducer is not None and status in NARRATED:
            inside = story(reducer)  # a watched queue's insides say more than a note
            if inside:
                self.show_text(inside)
                return
            note = current_note(reducer, shown_ns or reducer.last_t)
            if note is not None:
                self.show_text(note.text)
                return
        self.show_text(HINTS.get(status, ""))

    def forget(self) -> None:
        """A new run: old notes are no news."""
        self._hung = ""
