"""``qsim shot``: run the real window offscreen for a while and save a screenshot.

The window is the one students use, at exactly the size asked for; the
scenario really runs (real processes) until the picture is taken, then every
worker is stopped. Used for the README pictures and to look at the layout.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Qt is imported only when a picture is really taken
    from qsim.ui.main_window import MainWindow


def parse_size(text: str) -> tuple[int, int]:
    """``"1920x1080"`` -> (1920, 1080); ``ValueError`` otherwise."""
    m = re.fullmatch(r"\s*(\d{2,5})\s*[xX×]\s*(\d{2,5})\s*", text)
    if not m:
        raise ValueError(f"--size must look like 1280x720, got {text!r}")
    w, h = int(m.group(1)), int(m.group(2))
    if not (320 <= w <= 7680 and 240 <= h <= 4320):
        raise ValueError(f"--size {w}x{h} is outside 320x240 to 7680x4320")
    return w, h


def shot_main(args: argparse.Namespace) -> int:
    """Run ``args.scenario`` for ``args.after`` seconds and save ``args.output``."""
    from qsim.engine.trace_check import TraceError, check_program
    from qsim.model.scenario_io import ScenarioError
    from qsim.resources import is_program, load, load_program

    try:
        size = parse_size(args.size)
        if not 0 <= args.after <= 600:
            raise ValueError(f"--after must be between 0 and 600 seconds, got {args.after:g}")
    except ValueError as e:
        print(f"qsim shot: {e}", file=sys.stderr)
        return 2
    program = str(args.scenario).endswith(".py")
    lesson = None if program else is_program(args.scenario)  # a program lesson
    scenario = None
    try:
        if program:  # a Python program, traced: refused here if it cannot be
            check_program(os.path.abspath(args.scenario))
            argv = shlex.split(getattr(args, "args", "") or "")
        elif lesson:
            load_program(args.scenario)  # refused here if its files are not right
        else:
            scenario = load(args.scenario)
    except (ScenarioError, TraceError, ValueError) as e:
        print(f"qsim shot: {e}" if program else e, file=sys.stderr)
        return 2
    # offscreen even with a display: a window manager would clamp the size
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer

    from qsim.ui.app import make_app
    from qsim.ui.main_window import MainWindow
    from qsim.ui.session import LiveSession

    app = make_app()
    session = LiveSession()
    win = MainWindow(session, settings=None)  # never the user's settings
    result = {"code": 1}
    try:
        win.set_theme(args.theme)
        win.install_panels()
        if scenario is not None:
            win.show_scenario(scenario)
        win.resize(*size)
        win.fit_docks()
        if args.presentation:
            win.set_presentation(True, fullscreen=False)
        win.show()
        if program:
            win.programs.open_program(args.scenario, argv)
        elif lesson:
            win.open_lesson(str(args.scenario))
            session.play()
        else:
            session.play()

        def take() -> None:
            bring_up_to_date(win)
            result["code"] = 0 if save_grab(win, size, args.output) else 1
            win.close()

        QTimer.singleShot(int(args.after * 1000), take)
        app.exec()
    finally:
        win.close()
        session.shutdown()
    return result["code"]


def bring_up_to_date(win: MainWindow) -> None:
    """Redraw what is throttled while a run goes (the status bar's figures a few
    times a second, the panels' text and plots), so that a picture taken now
    tells the same story as the diagram, which is redrawn every frame."""
    win.status.update_from(win.session)
    win.refresh_key_figure()
    win.show_measured()
    for panel in win.panels.values():
        redraw = getattr(panel, "redraw", None)
        if redraw is not None and panel.isVisible():
            redraw()


def save_grab(win: object, size: tuple[int, int], path: str) -> bool:
    """Grab ``win`` and save it as a PNG of exactly ``size`` pixels."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPixmap
    from PySide6.QtWidgets import QWidget

    assert isinstance(win, QWidget)
    image = win.grab().toImage()
    if (image.width(), image.height()) != size:  # a high-dpi screen or a clamped window
        print(
            f"qsim shot: the window was {image.width()}x{image.height()}, scaled to "
            f"{size[0]}x{size[1]}",
            file=sys.stderr,
        )
        image = image.scaled(
            *size,
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    if not QPixmap.fromImage(image).save(path, "PNG"):
        print(f"qsim shot: cannot write {path}", file=sys.stderr)
        return False
    print(f"{path}: {size[0]}x{size[1]}")
    return True
