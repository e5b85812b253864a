"""What the window's docks hold before and around the topic panels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QWidget

#: topic panel docks (filled by ``qsim.ui.panels``): name -> (title, what it will show)
PANELS = {
    "capacity": ("Capacity", "queue depth against maxsize, and time blocked in put()"),
    "priority": ("Priority", "the order items leave a priority queue"),
    "joinable": ("JoinableQueue", "unfinished tasks, task_done() and join()"),
    "pipeline": ("Pipeline", "each stage's rate and backlog"),
    "throughput": ("Throughput", "items per second and latency over time"),
}


def panel_key(name: str) -> str:
    """``dock_joinable``, ``JoinableQueue``, ``joinable`` -> ``joinable``."""
    return name.lower().removeprefix("dock_").replace("joinablequeue", "joinable")


def placeholder(name: str) -> QLabel:
    """What a topic dock shows until its panel is plugged in."""
    title, what = PANELS[name]
    label = QLabel(f"{title}: {what}.\n(This panel is not available yet.)")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    return label


def scrolled(widget: QWidget) -> QScrollArea:
    """``widget`` in a frameless scroll area: a tall panel then scrolls instead of
    pushing the window past the screen (1280x720 must fit)."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(widget)
    return area
