"""The animated diagram: producers, queues and consumers driven by real events."""

from qsim.ui.diagram.view import DiagramView

__all__ = ["DiagramView"]
