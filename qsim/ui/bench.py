"""``qsim bench gui``: how fast the live diagram draws a flat-out run.

A scenario built here (4 producers -> one unbounded Queue -> 4 slower
consumers, so thousands of items pile up) runs with real processes while a
``LiveSession`` and a ``DiagramView`` draw it offscreen at 1280x720; with
``program=`` a Python program is traced instead (its tokens show reprs, and
the frame takes the window's path: tokens set off ahead of their puts). Each
frame is timed whole: draining the collector, the reducer, ``apply_frame``
and a forced synchronous repaint. Event-to-frame latency is the time from a
worker's event (its ``t_ns``) to the end of the paint of the frame that
applied it; both clocks are ``time.monotonic_ns``, system-wide.
"""

from __future__ import annotations

import os
import time
from typing import Any

from qsim.model.scenario import ConsumerSpec, ProducerSpec, QueueSpec, RunOptions, Scenario
from qsim.model.topology import build_topology

PANEL_BLOCK_S = 0.5  # with panels: alternate hidden/shown blocks of this length


def flat_out_scenario(
    duration: float = 5.0,
    producers: int = 4,
    consumers: int = 4,
    interval: float = 0.001,
    work_time: float = 0.002,
) -> Scenario:
    """Producers faster than consumers: the queue grows by thousands of items."""
    return Scenario(
        id="bench-gui",
        title="GUI bench: flat-out producers, unbounded queue",
        queues=(QueueSpec("q", "Queue", 0),),
        producers=(
            ProducerSpec("P", "q", producers, items=0, duration=duration, interval=interval),
        ),
        consumers=(ConsumerSpec("C", "q", consumers, work_time=work_time),),
        run=RunOptions(start_method="fork", duration=duration + 30.0, hang_after=60.0),
    )


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[k]


def _median(values: list[float]) -> float:
    return _percentile(values, 50)


def bench_gui(
    panels: str = "none",
    duration: float = 5.0,
    size: tuple[int, int] = (1280, 720),
    start_method: str = "fork",
    program: str = "",
    program_args: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Run the flat-out scenario (or trace ``program`` with ``program_args``) for
    ``duration`` s and return the frame figures (ms)."""
    if "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication, QGridLayout, QMainWindow, QWidget

    from qsim.model.display import LEAD_NS
    from qsim.ui.diagram import DiagramView
    from qsim.ui.session import LiveSession

    app = QApplication.instance() or QApplication([])
    sc = flat_out_scenario(duration)
    session = LiveSession(start_method=start_method)
    window = QMainWindow()  # the diagram alone, at the measured size
    window.setWindowTitle("qsim bench gui")
    view = DiagramView()
    window.setCentralWidget(view)
    window.resize(*size)
    panel_win: QWidget | None = None
    panel_note = ""
    if panels == "all":
        try:
            from qsim.ui.panels import create_panels
        except ImportError as e:
            panel_note = f"panels not available: {e}"
        else:
            # a second window beside the diagram, shown in every other block
            panel_win = QWidget()
            panel_win.setWindowTitle("qsim bench gui: panels")
            grid = QGridLayout(panel_win)
            for n, w in enumerate(create_panels(session).values()):
                grid.addWidget(w, n // 2, n % 2)
            panel_win.resize(size[0] // 2, size[1])

    def on_loaded(sc: Scenario) -> None:
        topo = session.topology if program else build_topology(sc)
        assert topo is not None
        view.set_scenario(sc, topo)

    session.scenario_loaded.connect(on_loaded)

    views_ms: list[float] = []  # apply_frame: the diagram brought in step (no paint)
    paint_ms: list[float] = []

    def on_frame(now_ns: int) -> None:
        r = session.reducer
        if r is None:
            return
        t0 = time.monotonic_ns()
        if program:  # as the window does
            view.apply_frame(
                r,
                session.applied,
                now_ns,
                session.t_display,
                session.upcoming(LEAD_NS),
                session.display_settled,
            )
        else:
            view.apply_frame(r, session.applied, now_ns)
        views_ms.append((time.monotonic_ns() - t0) / 1e6)

    session.frame.connect(on_frame)
    window.show()
    if program:
        session.load_program(program, program_args)
    else:
        session.load(sc)
    app.processEvents()

    frames_diagram: list[float] = []
    frames_panels: list[float] = []
    latencies: list[float] = []
    peak = {"items": 0, "tokens": 0, "in_flight": 0, "queue": 0}
    busy = [False]
    started = time.monotonic()
    flags = QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents

    def tick() -> None:
        if busy[0]:
            return
        busy[0] = True
        block = int((time.monotonic() - started) / PANEL_BLOCK_S)
        shown = panel_win is not None and block % 2 == 1
        if panel_win is not None and shown != panel_win.isVisible():
            panel_win.setVisible(shown)
            app.processEvents(flags)  # showing a window is not part of a frame
        t0 = time.monotonic_ns()
        session._on_tick()  # drain + reducer + frame signal -> apply_frame (the real path)
        tp = time.monotonic_ns()
        app.processEvents(flags)  # the repaints this frame asked for
        t1 = time.monotonic_ns()
        paint_ms.append((t1 - tp) / 1e6)
        busy[0] = False
        reducer = session.reducer
        if reducer is None:
            return
        (frames_panels if shown else frames_diagram).append((t1 - t0) / 1e6)
        latencies.extend((t1 - e[0]) / 1e6 for e in session.applied)
        depth = max((q.depth for q in reducer.queues), default=0)
        peak["queue"] = max(peak["queue"], depth)
        peak["items"] = max(peak["items"], depth + reducer.in_hands() + view.in_flight())
        peak["tokens"] = max(peak["tokens"], view.token_count())
        peak["in_flight"] = max(peak["in_flight"], view.in_flight())

    session.play()
    session._timer.stop()  # the bench drives the frames itself, to time them whole
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(16)
    timer.timeout.connect(tick)
    loop = QEventLoop()
    stopper = QTimer()
    stopper.setSingleShot(True)
    stopper.timeout.connect(loop.quit)
    t_start = time.monotonic()
    timer.start()
    stopper.start(round(duration * 1000))
    loop.exec()
    timer.stop()
    stopper.stop()
    elapsed = time.monotonic() - t_start
    events = session.events_total
    session.shutdown()
    window.close()
    window.deleteLater()
    if panel_win is not None:
        panel_win.close()
        panel_win.deleteLater()
    app.processEvents()

    frames = frames_diagram + frames_panels
    result: dict[str, Any] = {
        "size": f"{size[0]}x{size[1]}",
        "duration_s": round(elapsed, 2),
        "frames": len(frames),
        "fps": round(len(frames) / elapsed, 1) if elapsed else 0.0,
        "frame_ms_median": round(_median(frames), 2),
        "frame_ms_p95": round(_percentile(frames, 95), 2),
        "diagram_update_ms_median": round(_median(views_ms), 2),
        "paint_ms_median": round(_median(paint_ms), 2),
        "paint_ms_p95": round(_percentile(paint_ms, 95), 2),
        "latency_ms_p95": round(_percentile(latencies, 95), 1),
        "latency_ms_median": round(_median(latencies), 1),
        "events": events,
        "events_per_s": round(events / elapsed) if elapsed else 0,
        "max_items_visible_or_in_flight": peak["items"],
        "max_queue_depth": peak["queue"],
        "max_tokens_drawn": peak["tokens"],
        "max_in_flight": peak["in_flight"],
        "panels": panels if panel_win is not None else "none",
    }
    if program:
        result["program"] = " ".join([os.path.basename(program), *program_args])
    if panel_win is not None:
        d, p = _median(frames_diagram), _median(frames_panels)
        result["frame_ms_median_diagram_only"] = round(d, 2)
        result["frame_ms_median_with_panels"] = round(p, 2)
        result["frame_ms_panels_cost"] = round(p - d, 2)
    if panel_note:
        result["note"] = panel_note
    return result
