"""Topic panels: capacity/backpressure, priority, JoinableQueue, pipeline, throughput.

``create_panels(session)`` builds one of each around a shared ``PanelHistory``
(Little's law lives in the throughput panel); the main window docks them.
pyqtgraph is imported only when they are built (it is slow to import), never
by merely importing this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from qsim.ui.session import LiveSession
    from qsim.ui.theme import Theme

PANEL_NAMES = ("capacity", "priority", "joinable", "pipeline", "throughput")


def create_panels(session: LiveSession) -> dict[str, QWidget]:
    """One panel per topic, keyed by dock name, all fed by ``session``."""
    from qsim.ui.panels.capacity import CapacityPanel
    from qsim.ui.panels.history import PanelHistory
    from qsim.ui.panels.joinable import JoinablePanel
    from qsim.ui.panels.pipeline import PipelinePanel
    from qsim.ui.panels.priority import PriorityPanel
    from qsim.ui.panels.throughput import ThroughputPanel

    history = PanelHistory()
    return {
        "capacity": CapacityPanel(session, history),
        "priority": PriorityPanel(session, history),
        "joinable": JoinablePanel(session, history),
        "pipeline": PipelinePanel(session, history),
        "throughput": ThroughputPanel(session, history),
    }


def apply_theme(panels: dict[str, QWidget], theme: Theme) -> None:
    """Give every panel the window's theme (presentation mode: 1.5x fonts)."""
    for w in panels.values():
        set_theme = getattr(w, "set_theme", None)
        if set_theme is not None:
            set_theme(theme)
