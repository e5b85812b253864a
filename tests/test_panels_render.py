"""Each panel, after a real run, at dock sizes and in presentation mode: nothing a
user reads overlaps or is cut off (it scrolls instead), and the panels follow
the main window's theme (dark, 1.5x presentation fonts).

Set ``QSIM_PANEL_SHOTS=/some/dir`` to keep the PNGs for a look.
"""

from __future__ import annotations

import os
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QWidget,
)

from qsim.model.scenario import (
    ConsumerSpec,
    MainSpec,
    ProducerSpec,
    QueueSpec,
    RunOptions,
    Scenario,
)
from qsim.ui.panels import create_panels
from qsim.ui.panels.order_strips import OrderStrips
from qsim.ui.panels.widgets import FigureTable, FillBar, PlotArea
from qsim.ui.session import LiveSession
from qsim.ui.theme import DARK, HIGH_CONTRAST, LIGHT, Theme

RUN = RunOptions(duration=20, hang_after=1.0)
SCENARIOS = {
    "capacity": Scenario(
        id="cap",
        title="cap",
        queues=(QueueSpec("q", maxsize=2),),
        producers=(ProducerSpec(id="P", queue="q", items=12, interval=0.01, sentinels=1),),
        consumers=(ConsumerSpec(id="C", queue="q", work_time=0.05),),
        run=RUN,
    ),
    "priority": Scenario(
        id="prio",
        title="prio",
        queues=(QueueSpec("pq", kind="PriorityQueue"),),
        producers=(
            ProducerSpec(
                id="P", queue="pq", items=40, interval=0.01, priorities=(1, 5), sentinels=1
            ),
        ),
        consumers=(ConsumerSpec(id="C", queue="pq", work_time=0.02),),
        run=RUN,
    ),
    "joinable": Scenario(
        id="join",
        title="join",
        queues=(QueueSpec("jq", kind="JoinableQueue"),),
        producers=(ProducerSpec(id="P", queue="jq", items=12, interval=0.01),),
        consumers=(ConsumerSpec(id="C", queue="jq", count=2, work_time=0.02, task_done="never"),),
        main=MainSpec(sentinels=2, sentinel_queue="jq", join="jq"),
        run=RUN,
    ),
    "pipeline": Scenario(
        id="pipe",
        title="pipe",
        queues=(QueueSpec("q1", maxsize=4), QueueSpec("q2")),
        producers=(ProducerSpec(id="P", queue="q1", items=20, interval=0.005, sentinels=1),),
        consumers=(
            ConsumerSpec(id="parse", queue="q1", output="q2", work_time=0.04, function="identity"),
            ConsumerSpec(id="store", queue="q2", work_time=0.005),
        ),
        run=RUN,
    ),
}
SCENARIOS["throughput"] = SCENARIOS["pipeline"]
SIZES: list[tuple[Theme, tuple[int, int]]] = [
    (LIGHT, (420, 300)),
    (LIGHT, (640, 400)),
    (LIGHT, (1280, 170)),  # the main window's bottom dock area
    (DARK, (640, 400)),
    (HIGH_CONTRAST, (640, 400)),
    (HIGH_CONTRAST, (900, 560)),
    (HIGH_CONTRAST, (1280, 300)),
]
READ = (QLabel, QAbstractButton, QAbstractSpinBox, QComboBox, FigureTable, FillBar, OrderStrips,
        PlotArea)  # fmt: skip


def readable(panel: QWidget) -> list[QWidget]:
    """The visible widgets a user reads or presses, outermost only."""
    found = [w for w in panel.findChildren(QWidget) if isinstance(w, READ) and w.isVisible()]
    return [w for w in found if not any(o is not w and o.isAncestorOf(w) for o in found)]


def rect_in(panel: QWidget, w: QWidget) -> QRect:
    return QRect(w.mapTo(panel, QPoint(0, 0)), w.size())


def check_layout(panel: QWidget) -> None:
    widgets = readable(panel)
    assert widgets
    for a, b in combinations(widgets, 2):
        overlap = rect_in(panel, a).intersected(rect_in(panel, b))
        assert overlap.isEmpty(), f"{a!r} {getattr(a, 'text', str)()!r} overlaps {b!r}"
    for w in widgets:
        if isinstance(w, QLabel) and w.text():
            if w.wordWrap():
                assert w.height() >= w.heightForWidth(w.width()) - 1, w.text()
            else:
                assert w.width() >= w.minimumSizeHint().width() - 1, w.text()
        elif isinstance(w, (QAbstractButton, QAbstractSpinBox, QComboBox)):
            assert w.width() >= w.minimumSizeHint().width() - 1, w
            assert w.height() >= w.minimumSizeHint().height() - 1, w


@pytest.mark.parametrize("name", ["capacity", "priority", "joinable", "pipeline", "throughput"])
def test_panel_reads_cleanly_at_every_size_and_theme(
    qtbot: Any, tmp_path: Path, name: str
) -> None:
    s = LiveSession(start_method="fork")
    try:
        panel = create_panels(s)[name]
        qtbot.addWidget(panel)
        panel.resize(640, 400)
        panel.show()
        s.load(SCENARIOS[name])
        s.play()
        qtbot.waitUntil(lambda: s.status in ("finished", "hung"), timeout=20_000)
        shots = Path(os.environ.get("QSIM_PANEL_SHOTS", tmp_path))
        base_pt = QApplication.font().pointSizeF()
        for theme, (w, h) in SIZES:
            panel.set_theme(theme)
            panel.resize(w, h)
            qtbot.wait(20)  # layouts settle on posted events
            panel.redraw()
            assert panel.font().pointSizeF() == pytest.approx(base_pt * theme.font_scale)
            check_layout(panel)
            image = panel.grab()
            assert image.width() == w and image.height() == h
            image.save(str(shots / f"{name}-{theme.name}-{w}x{h}.png"))
    finally:
        s.shutdown()


def test_panels_follow_the_main_window_theme(qtbot: Any) -> None:
    from qsim.ui.main_window import MainWindow

    s = LiveSession(start_method="fork")
    win = MainWindow(s)
    qtbot.addWidget(win)
    win.install_panels()
    win.resize(1280, 720)
    win.show()
    panel = win.panels["capacity"]
    win.docks["capacity"].raise_()
    qtbot.waitUntil(panel.isVisible, timeout=5_000)
    assert panel.theme.name == "light"
    win.set_theme("dark")
    qtbot.waitUntil(lambda: panel.theme.name == "dark", timeout=5_000)
    win.set_theme("light")
    win.set_presentation(True, fullscreen=False)
    win.docks["capacity"].show()
    qtbot.waitUntil(lambda: panel.theme.font_scale == 1.5, timeout=5_000)
    win.set_presentation(False)
    qtbot.waitUntil(lambda: panel.theme.font_scale == 1.0, timeout=5_000)
    s.shutdown()


def test_capacity_names_the_queues_of_each_maxsize_line_and_keeps_labels_apart(
    qtbot: Any,
) -> None:
    from qsim.resources import load

    s = LiveSession(start_method="fork")
    try:
        panel = create_panels(s)["capacity"]
        qtbot.addWidget(panel)
        panel.resize(640, 400)
        panel.show()
        s.load(load("serialization"))  # maxsize 1000, 1000, 100 and 8
        lines = {line.value(): line for line in panel.max_lines}
        assert {v: line.label.toPlainText() for v, line in lines.items()} == {
            1000: "q-tiny, q-small maxsize=1000",
            100: "q-medium maxsize=100",
            8: "q-large maxsize=8",
        }
        # the two low lines are close: their labels are far apart along them
        assert abs(lines[100].label.orthoPos - lines[8].label.orthoPos) >= 0.25
        s.load(load("batching"))  # every queue maxsize 100: one line, one label
        assert [line.label.toPlainText() for line in panel.max_lines] == [
            "each queue's maxsize=100"
        ]
    finally:
        s.shutdown()
