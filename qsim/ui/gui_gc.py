"""Cyclic garbage is collected on the GUI thread only.

Python's cycle collector runs in whichever thread happens to allocate when a
generation fills up: in qsim that is often a run's collector or starter
thread. A cycle that holds a Qt object (a closed dialog, a dropped scene item
and its slot) is then destroyed off the GUI thread, and Qt crashes
(segmentation fault). So the window turns automatic collection off and
collects on a timer in the GUI thread instead, generation by generation as
the automatic collector would (pyqtgraph's ``GarbageCollector`` does the same).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

EVERY_MS = 500

_timer: QTimer | None = None


def collect_when_due() -> None:
    """Collect the generations whose counts passed their thresholds."""
    t0, t1, t2 = gc.get_threshold()
    c0, c1, c2 = gc.get_count()
    if c0 > t0:
        gen = 2 if (c1 > t1 and c2 > t2) else 1 if c1 > t1 else 0
        gc.collect(gen)


def install(app: QObject | None = None) -> None:
    """Turn automatic collection off and collect on the GUI thread (idempotent)."""
    global _timer
    if _timer is not None:
        return
    parent = app if app is not None else QCoreApplication.instance()
    timer = QTimer(parent)
    timer.setObjectName("qsim-gui-gc")
    timer.timeout.connect(collect_when_due)
    timer.start(EVERY_MS)
    _timer = timer
    gc.disable()
