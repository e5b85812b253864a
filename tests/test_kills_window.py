"""A process killed in a lesson playing in the window: the window gets the
same verdict as a headless run, and says why in its caption."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import replace

import pytest
from handy import handy
from killing import scenario
from pytestqt.qtbot import QtBot
from test_kills import LARGE

from qsim.engine.run import Run
from qsim.model.state import CRASHED, WORKING
from qsim.ui.caption import CaptionBar
from qsim.ui.session import LiveSession


@pytest.fixture
def session(qtbot: QtBot) -> Iterator[LiveSession]:
    s = LiveSession(reorder_ms=50)
    yield s
    s.shutdown()


def _kill(s: LiveSession, name: str) -> None:
    assert isinstance(s.run, Run)
    os.kill(s.run.pids()[name], signal.SIGKILL)


def test_a_half_written_item_is_shown_in_the_caption_and_stop_ends_it(
    session: LiveSession, qtbot: QtBot, start_method: str
) -> None:
    session.start_method = start_method
    session.load(scenario(LARGE))
    session.play()
    r = session.reducer
    assert r is not None
    consumer = r.actors[2]
    qtbot.waitUntil(lambda: consumer.items >= 2 and consumer.state == WORKING, timeout=20_000)
    _kill(session, "P-large")
    qtbot.waitUntil(lambda: session.status == "hung", timeout=15_000)
    qtbot.waitUntil(lambda: bool(consumer.hung_reason), timeout=5_000)  # shown as it is applied
    caption = CaptionBar()
    qtbot.addWidget(caption)
    caption.show_status(session.status, r, 1.0)
    assert caption.text() == (
        "⚠ C-large is hung: waiting on get; stuck reading a half-written item from "
        "q-large: P-large died mid-put (exit code -9)"
    )
    with qtbot.waitSignal(session.run_stopped, timeout=10_000):
        session.stop()
    assert consumer.state == "finished" and consumer.exit_reason == "stop"
    assert any("half-written by P-large when it was killed" in w for w in r.acct.lost_reasons)
    assert r.accounting_closes()


def test_a_killed_producer_lets_the_lesson_finish(
    session: LiveSession, qtbot: QtBot, start_method: str
) -> None:
    session.start_method = start_method
    sc = handy("small-many-to-many")  # P1 still putting when it is killed
    session.load(replace(sc, producers=tuple(replace(p, items=40) for p in sc.producers)))
    session.play()
    r = session.reducer
    assert r is not None
    qtbot.waitUntil(lambda: r.actors[1].items >= 2, timeout=20_000)
    _kill(session, "P1")
    qtbot.waitUntil(lambda: session.status == "finished", timeout=20_000)
    assert r.actors[1].state == CRASHED and r.actors[1].exit_code == -9
    assert r.actors[0].state == "finished", "main joined the dead producer and sent the STOPs"
    assert r.accounting_closes() and r.violations == 0
