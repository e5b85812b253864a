"""The menu bar: File, Run, View and Help, built for a ``MainWindow``."""

from __future__ import annotations

import sys
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

import qsim
from qsim.ui.controls import make_action
from qsim.ui.timeline import MARK_KEYS

if TYPE_CHECKING:
    from qsim.ui.main_window import MainWindow

LICENCES = (
    ("qsim", "MIT"),
    ("Qt 6 / PySide6", "LGPL v3"),
    ("pyqtgraph", "MIT"),
    ("NumPy", "BSD 3-clause"),
)


def about_text() -> str:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    rows = "".join(f"<tr><td>{name}</td><td>&nbsp;{lic}</td></tr>" for name, lic in LICENCES)
    py = ".".join(map(str, sys.version_info[:3]))
    return (
        f"<h3>qsim {qsim.__version__}</h3>"
        "<p>See Python <code>multiprocessing</code> queues at work: real worker "
        "processes, real queues; every token you see is an item a process really "
        "put or got.</p>"
        f"<p>Python {py}, Qt {qVersion()}, PySide6 {pyside_version}</p>"
        f"<p>Licences:</p><table>{rows}</table>"
    )


def recording_actions(win: MainWindow) -> list[QAction]:
    """File menu: open and save recordings, export a video."""
    win.act_open_recording = make_action(
        win,
        "Open &recording…",
        "Replay a recorded run (.qrec) in this window",
        ("Ctrl+Shift+O",),
        win.open_recording_dialog,
        name="act_open_recording",
    )
    win.act_save_recording = make_action(
        win,
        "Save re&cording…",
        "Save the recording of this run (every run is recorded) as a .qrec file",
        ("Ctrl+Shift+S",),
        win.save_recording_dialog,
        name="act_save_recording",
    )
    win.act_save_recording.setEnabled(win.session.can_save_recording)
    win.act_export_video = make_action(
        win,
        "Export &video…",
        "Render the recording as a video (MP4) or an animated GIF",
        ("Ctrl+Shift+E",),
        win.export_video_dialog,
        name="act_export_video",
    )
    return [win.act_open_recording, win.act_save_recording, win.act_export_video]


def timeline_actions(win: MainWindow) -> list[QAction]:
    """Run menu: move through the run's timeline (its recording)."""
    s = win.session
    return [
        make_action(
            win,
            "Step &back",
            "One event back: look at the moment just before the last event",
            ("Left", "Shift+Left"),
            lambda: s.step_events(-1),
            name="act_step_back",
        ),
        make_action(
            win,
            "Go to the s&tart",
            "The start of the run",
            ("Home",),
            s.go_start,
            name="act_timeline_start",
        ),
        make_action(
            win,
            "&Live",
            "Back to the run as it is now (the end of a recording)",
            ("End",),
            s.go_end,
            name="act_live",
        ),
    ]


def build_menus(win: MainWindow) -> None:
    """Fill ``win``'s menu bar; actions are kept on the window as ``act_*``."""
    bar = win.menuBar()
    sk = QKeySequence.StandardKey
    file_menu = bar.addMenu("&File")
    win.act_open = make_action(
        win,
        "&Open scenario…",
        "Open a scenario file (.toml)",
        ("Ctrl+O",),
        win.open_dialog,
        name="act_open",
    )
    win.act_save = make_action(
        win,
        "&Save scenario as…",
        "Save the current scenario, with your changes, as TOML",
        ("Ctrl+S",),
        win.save_dialog,
        name="act_save",
    )
    win.act_export = make_action(
        win,
        "&Export picture…",
        "Save the diagram as a PNG picture",
        ("Ctrl+E",),
        win.export_dialog,
        name="act_export",
    )
    act_quit = make_action(
        win, "&Quit", "Stop every worker and quit", ("Ctrl+Q",), win.close, name="act_quit"
    )
    for act in (win.act_open, win.act_save, win.act_export):
        file_menu.addAction(act)
    file_menu.addSeparator()
    for act in recording_actions(win):
        file_menu.addAction(act)
    file_menu.addSeparator()
    file_menu.addAction(act_quit)

    run_menu = bar.addMenu("&Run")
    ra = win.actions_run
    for act in (ra.play, ra.step, ra.stop, ra.reset):
        run_menu.addAction(act)
    run_menu.addSeparator()
    run_menu.addAction(ra.faster)
    run_menu.addAction(ra.slower)
    run_menu.addSeparator()
    for act in timeline_actions(win):
        run_menu.addAction(act)
    for n in range(MARK_KEYS):  # 1-9: the marks, earliest first (no menu entries)
        win.addAction(
            make_action(
                win,
                f"Mark {n + 1}",
                f"Show mark {n + 1} of the timeline",
                (str(n + 1),),
                partial(win.session.jump_to_mark, n),
                name=f"act_mark_{n + 1}",
            )
        )

    view = bar.addMenu("&View")
    panels = QMenu("&Panels", view)
    for dock in win.docks.values():
        act = dock.toggleViewAction()
        act.setToolTip(f"Show or hide the {dock.windowTitle()} panel")
        panels.addAction(act)
    view.addMenu(panels)
    themes = QMenu("&Theme", view)
    group = QActionGroup(win)
    win.theme_actions = {}
    for name, label in (("light", "&Light"), ("dark", "&Dark")):
        act = make_action(
            win,
            label,
            f"Use the {name} theme",
            (),
            partial(win.set_theme, name),
            name=f"act_theme_{name}",
        )
        act.setCheckable(True)
        group.addAction(act)
        themes.addAction(act)
        win.theme_actions[name] = act
    view.addMenu(themes)
    view.addSeparator()
    diagram = win.diagram
    for label, tip, keys, slot, name in (
        ("Zoom &in", "Make the diagram larger", (sk.ZoomIn, "Ctrl+="), diagram.zoom_in, "in"),
        ("Zoom &out", "Make the diagram smaller", (sk.ZoomOut,), diagram.zoom_out, "out"),
        ("&Fit the diagram", "Show the whole diagram", ("Ctrl+0",), diagram.zoom_fit, "fit"),
    ):
        view.addAction(
            make_action(win, label, tip + "; Ctrl+wheel too", keys, slot, name=f"act_zoom_{name}")
        )
    view.addSeparator()
    win.act_presentation = make_action(
        win,
        "&Presentation mode",
        "Full screen, large and high-contrast, for a lecture",
        ("F11",),
        win.toggle_presentation,
        name="act_presentation",
    )
    win.act_presentation.setCheckable(True)
    view.addAction(win.act_presentation)
    act_leave = make_action(
        win,
        "Leave presentation",
        "Leave presentation mode",
        ("Esc",),
        lambda: win.set_presentation(False),
        name="act_leave_presentation",
    )
    win.addAction(act_leave)

    help_menu = bar.addMenu("&Help")
    help_menu.addAction(
        make_action(
            win,
            "&Lesson help",
            "Show the text of the current lesson",
            (sk.HelpContents,),
            win.show_lesson_help,
            name="act_help",
        )
    )
    help_menu.addAction(
        make_action(
            win,
            "&About qsim",
            "Version and licences",
            (),
            lambda: QMessageBox.about(win, "About qsim", about_text()),
            name="act_about",
        )
    )
