"""No text too small to read: 11 px at 1280x720, 18 px presenting at 1920x1080.

For every lesson, one window (reused) shows the lesson with a busy state fed
to its diagram from hand-made events (tokens with labels, priorities, a five
digit number, sentinels); then every text is measured where it ends up on
screen: the diagram's painting at the view's scale, the caption, the key
figure, the status bar, the docks (lesson text, panels and their plots).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from handy import every_scenario, scenario
from legibility import Sample, all_texts, busy_events
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from qsim.model.panel_figures import view_time
from qsim.model.state import Reducer
from qsim.ui.main_window import MainWindow
from qsim.ui.session import LiveSession

MODES = {
    "1280x720": ((1280, 720), False, 11.0),
    "presenting 1920x1080": ((1920, 1080), True, 18.0),
}


@pytest.fixture
def window(qtbot: QtBot, request: pytest.FixtureRequest) -> Iterator[MainWindow]:
    size, presenting, _ = MODES[request.param]
    session = LiveSession()
    win = MainWindow(session, settings=None)
    session.setParent(win)
    qtbot.addWidget(win)
    win.install_panels()
    win.resize(*size)
    win.fit_docks()
    if presenting:
        win.set_presentation(True, fullscreen=False)
    with qtbot.waitExposed(win):
        win.show()
    yield win
    win.close()


def show_busy(win: MainWindow, lesson: str) -> None:
    """The lesson, and its diagram in a busy state (no process started)."""
    sc = scenario(lesson)
    win.show_scenario(sc)
    topo = win.session.topology
    assert topo is not None
    reducer = Reducer(topo, reorder_ns=0)
    events = busy_events(sc, topo)
    reducer.feed(events)
    reducer.flush()
    now = reducer.last_t
    win.diagram.apply_frame(reducer, reducer.last_applied, now)
    win.diagram.apply_frame(reducer, [], now + 2 * 10**9)  # the tokens have landed
    win.caption.show_status("running", reducer, 3.0)
    win.key_figure.show_figure(sc, reducer, view_time(reducer, now, False))
    QApplication.processEvents()


@pytest.mark.parametrize("window", list(MODES), indirect=True)
def test_no_text_is_smaller_than_the_minimum(
    window: MainWindow, request: pytest.FixtureRequest
) -> None:
    mode = request.node.callspec.params["window"]
    _, _, minimum = MODES[mode]
    too_small: list[tuple[str, Sample]] = []
    smallest: dict[str, float] = {}
    for lesson in every_scenario():
        show_busy(window, lesson)
        texts = all_texts(window)
        kinds = {where.split()[0] for where, _, _ in texts}
        # the diagram's words, its tokens, and the lines around it are all measured
        assert {"diagram", "label"} <= kinds, f"{lesson}: measured only {kinds}"
        assert any("TokenLayer" in where for where, _, _ in texts), f"{lesson}: no token"
        smallest[lesson] = min(px for _, _, px in texts)
        too_small += [(lesson, t) for t in texts if t[2] < minimum - 0.01]
    print(f"\nsmallest text at {mode}: " + ", ".join(f"{k} {v:.1f}" for k, v in smallest.items()))
    assert not too_small, f"{len(too_small)} texts under {minimum} px at {mode}: " + "; ".join(
        f"{lesson}: {where} {text!r} {px:.1f} px" for lesson, (where, text, px) in too_small[:12]
    )
