"""The main window: lessons, the live diagram, run controls, docks, presentation mode.

The window only *shows* a run: ``LiveSession`` owns the processes and the frame
timer, and every view here is refreshed from its ``frame`` signal. Nothing in
this module waits on a multiprocessing call.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QMainWindow,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from qsim.model.display import LEAD_NS
from qsim.model.events import Event
from qsim.model.measured import measured_lines
from qsim.model.scenario import Scenario
from qsim.model.scenario_io import ScenarioError
from qsim.ui.caption import CaptionBar
from qsim.ui.controls import RunActions
from qsim.ui.debug_overlay import ConsistencyOverlay
from qsim.ui.diagram.view import DiagramView
from qsim.ui.docks import PANELS, panel_key, placeholder, scrolled
from qsim.ui.event_log import PER_FRAME, EventLog
from qsim.ui.file_actions import FileActions
from qsim.ui.knobs import KnobPanel
from qsim.ui.lesson_list import LessonList
from qsim.ui.lesson_text import LessonText
from qsim.ui.menus import build_menus
from qsim.ui.presenting import KeyFigureBar, PresentationChrome, line_sizes
from qsim.ui.program_actions import ProgramActions
from qsim.ui.program_lessons import ProgramLessons
from qsim.ui.session import LiveSession
from qsim.ui.status import RunStatusBar
from qsim.ui.theme import THEMES, Theme, presentation, qt_palette, stylesheet
from qsim.ui.timeline import Timeline

#: docks hidden in presentation mode (the lesson text stays)
SECONDARY = ("lessons", "knobs", "event_log", *PANELS)
HANG_STOP_MS = 2500  # a hung run is shown this long, then stopped
STATUS_EVERY_NS = 250_000_000


class MainWindow(FileActions, QMainWindow):
    """The qsim window around one ``LiveSession``.

    Parameters
    ----------
    session
        the run bridge; a new one (owned by the window) when omitted.
    settings
        where geometry, dock layout, theme and last lesson are kept; ``None``
        keeps nothing (screenshots, tests).
    """

    def __init__(
        self, session: LiveSession | None = None, settings: QSettings | None = None
    ) -> None:
        super().__init__()
        self.setObjectName("qsim_main_window")
        self.session = session if session is not None else LiveSession(self)
        self.settings = settings
        self.base_theme: Theme = THEMES["light"]
        self.presenting = False
        self._saved_state = QByteArray()
        self._was_maximized = False
        self._status_at = 0
        self._shown = ("", "")  # (id, file) the views show: a knob restart keeps it
        self.docks: dict[str, QDockWidget] = {}
        self.panels: dict[str, QWidget] = {}
        self.act_open = self.act_save = self.act_export = QAction(self)
        self.act_open_recording = self.act_save_recording = self.act_export_video = QAction(self)
        self.act_presentation = QAction(self)
        self.theme_actions: dict[str, QAction] = {}

        self.diagram = DiagramView(self)
        self.diagram.setObjectName("diagram")
        self.caption = CaptionBar(self)
        # the lesson's key figure: in the toolbar (no room taken from the diagram);
        # presenting, with no toolbar, in large type above the diagram
        self.figure_big = KeyFigureBar(self)
        self.figure_big.hide()
        self.figure_small = KeyFigureBar(self)
        self.timeline = Timeline(self.session, settings, self)
        self._generation = self.session.generation
        centre = QWidget(self)
        lay = QVBoxLayout(centre)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.figure_big)
        lay.addWidget(self.diagram, 1)
        lay.addWidget(self.caption)
        lay.addWidget(self.timeline)
        self.setCentralWidget(centre)
        self.chrome = PresentationChrome(self, centre)

        self.lessons = LessonList(self)
        self.lesson_text = LessonText(self)
        self.knobs = KnobPanel(self.session, self)
        self.event_log = EventLog(self)
        self._add_dock("lessons", "Lessons", self.lessons, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._add_dock(
            "knobs", "Lesson controls", self.knobs, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self._add_dock(
            "lesson_text", "Lesson", self.lesson_text, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self._add_dock(
            "event_log", "Event log", self.event_log, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        for name, (title, _what) in PANELS.items():
            area = Qt.DockWidgetArea.BottomDockWidgetArea
            self._add_dock(name, title, placeholder(name), area)
            self.tabifyDockWidget(self.docks["event_log"], self.docks[name])
        self.docks["event_log"].raise_()

        self.actions_run = RunActions(self)
        self.toolbar = self.actions_run.toolbar(self)
        self.toolbar.addSeparator()
        self.figure_small.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.toolbar.addWidget(self.figure_small)
        self.addToolBar(self.toolbar)
        self.status = RunStatusBar(self)
        self.setStatusBar(self.status)
        build_menus(self)
        self.programs = ProgramActions(self)  # the Code dock, File > Open Python program…
        self.program_lessons = ProgramLessons(self)  # lessons that are real programs
        self.overlay = ConsistencyOverlay(self)  # hidden: Ctrl+Shift+F12
        self._connect()
        self.resize(1280, 720)
        self.fit_docks()
        self._hang_timer = QTimer(self)
        self._hang_timer.setSingleShot(True)
        self._hang_timer.setInterval(HANG_STOP_MS)
        self._hang_timer.timeout.connect(self._on_hang_timeout)
        self._restore_settings()
        self.setWindowTitle("qsim")
        if self.session.scenario is not None:  # a session that was loaded already
            self._on_scenario(self.session.scenario)
        self._on_state(self.session.status)

    def _add_dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(scrolled(widget) if name == "knobs" else widget)
        self.addDockWidget(area, dock)
        self.docks[name] = dock

    def _connect(self) -> None:
        s, ra = self.session, self.actions_run
        s.scenario_loaded.connect(self._on_scenario)
        s.frame.connect(self._on_frame)
        s.state_changed.connect(self._on_state)
        s.run_started.connect(self._on_run_started)
        s.error.connect(self._on_session_error)
        s.source_changed.connect(self._on_source_changed)
        ra.play.triggered.connect(s.toggle)
        ra.step.triggered.connect(s.step)
        ra.stop.triggered.connect(self.stop)
        ra.reset.triggered.connect(self.reset)
        ra.faster.triggered.connect(lambda: ra.speed.nudge(1))
        ra.slower.triggered.connect(lambda: ra.speed.nudge(-1))
        ra.speed.speed_changed.connect(s.set_speed)
        self.lessons.lesson_chosen.connect(self._on_lesson_chosen)

    # ------------------------------------------------------------ panels
    def set_panel(self, name: str, widget: QWidget) -> None:
        """Put a topic panel (``capacity``, ``priority``, ``joinable``, ``pipeline``,
        ``throughput``) into its dock, replacing the placeholder."""
        key = panel_key(name)
        dock = self.docks.get(key)
        if dock is None or key not in PANELS:
            raise KeyError(f"no panel dock {name!r} (known: {', '.join(PANELS)})")
        old = dock.widget()
        dock.setWidget(scrolled(widget))
        self.panels[key] = widget
        if old is not None:
            old.deleteLater()

    def panel(self, name: str) -> QWidget | None:
        """The topic panel plugged in with ``set_panel`` (None: the placeholder)."""
        return self.panels.get(name)

    def install_panels(self) -> None:
        """Plug in ``qsim.ui.panels.create_panels(session)`` if that module exists."""
        try:
            panels = importlib.import_module("qsim.ui.panels")
        except ModuleNotFoundError as e:
            if e.name not in ("qsim.ui.panels",):
                raise  # the panels exist but something they need is missing
            return
        create = getattr(panels, "create_panels", None)
        if create is None:
            return
        for name, widget in create(self.session).items():
            self.set_panel(name, widget)

    # ------------------------------------------------------------ lessons
    def open_lesson(self, ref: str) -> bool:
        """Open a built-in lesson id or a scenario file; stop the current run first.

        A scenario that does not load is reported and the current one keeps running.
        """
        from qsim.resources import is_program, load

        if is_program(ref):
            if not self.program_lessons.open(ref):
                return False
            if self.settings is not None:
                self.settings.setValue("lesson", ref)
            return True
        try:
            sc = load(ref)
        except ScenarioError as e:
            self.show_error("Cannot open the scenario", str(e))
            return False
        self.show_scenario(sc)
        if self.settings is not None:
            self.settings.setValue("lesson", ref)
        return True

    def show_scenario(self, sc: Scenario) -> None:
        """Stop the current run and get ``sc`` ready to play."""
        self._hang_timer.stop()
        self.session.load(sc)

    def show_program(
        self,
        path: str,
        argv: Sequence[str] = (),
        title: str = "",
        lesson_text: str = "",
        internals: bool = False,
    ) -> None:
        """Stop the current run and get a Python program ready to play, traced.

        Raises ``TraceError`` (nothing changed) for a program that cannot be traced;
        ``self.programs.open_program`` shows that in an error box and plays."""
        self._hang_timer.stop()
        self.session.load_program(path, argv, title, lesson_text, internals)

    def _on_lesson_chosen(self, lesson_id: str) -> None:
        if self.program_lessons.showing(lesson_id):
            return
        if self.session.scenario is None or self.session.scenario.id != lesson_id:
            self.open_lesson(lesson_id)

    def show_lesson_help(self) -> None:
        dock = self.docks["lesson_text"]
        dock.show()
        dock.raise_()

    # ------------------------------------------------------------ run control
    def reset(self) -> None:
        self._hang_timer.stop()
        self.session.reset()

    def stop(self) -> None:
        self._hang_timer.stop()
        self.session.stop()

    def _on_hang_timeout(self) -> None:
        if self.session.status == "hung":
            self.session.stop()
            self.status.showMessage("The hung run was stopped; R runs it again.")

    # ------------------------------------------------------------ session signals
    def _on_scenario(self, sc: Scenario) -> None:
        same = self._shown == (sc.id, sc.source)
        self._shown = (sc.id, sc.source)
        topo = self.session.topology
        assert topo is not None
        self._hang_timer.stop()
        self.diagram.set_scenario(sc, topo)
        self.knobs.set_scenario(sc)
        self.event_log.reset(topo)
        self.caption.forget()
        if same:  # a knob restarted the run: keep the user's speed and reading place
            self.session.set_speed(self.actions_run.speed.speed)
        else:
            self.lesson_text.set_scenario(sc)
            self.actions_run.speed.set_speed(self.session.speed)
            self.lessons.select(sc.id)
            self._raise_topic_panel(sc)
        replayed = self.session.recording_path
        what = f"replay of {Path(replayed).name} — " if replayed else ""
        self.setWindowTitle(f"qsim — {what}{sc.title}")
        self._on_state(self.session.status)

    def _raise_topic_panel(self, sc: Scenario) -> None:
        kinds = {q.kind for q in sc.queues}
        if any(c.output for c in sc.consumers):
            name = "pipeline"
        elif "PriorityQueue" in kinds:
            name = "priority"
        elif "JoinableQueue" in kinds:
            name = "joinable"
        elif any(q.maxsize for q in sc.queues):
            name = "capacity"
        else:
            name = "throughput"
        self.docks[name].raise_()

    def _on_run_started(self) -> None:
        self.status.new_run()
        self.caption.forget()
        self.event_log.t0 = self.session.run_started_ns  # the status bar's t = 0

    def _on_frame(self, now_ns: int) -> None:
        s = self.session
        reducer = s.reducer
        if reducer is None:
            return
        if s.generation != self._generation:  # the shown instant jumped
            self._generation = s.generation
            self.diagram.jump()
            self.event_log.reset(reducer.topology)
            self.event_log.t0 = s.run_started_ns
            self.event_log.add_events(s.recent_events(PER_FRAME))
            self._status_at = 0  # the figures of the new instant, this frame
        applied: list[Event] = s.applied
        settled = s.display_settled
        self.diagram.apply_frame(
            reducer, applied, now_ns, s.t_display, s.upcoming(LEAD_NS), settled
        )
        if applied and not self.event_log.visibleRegion().isEmpty():
            self.event_log.add_events(applied)
        self._update_caption()
        self.status.show_items(s)  # every frame: it must agree with the diagram
        if now_ns - self._status_at >= STATUS_EVERY_NS:
            self._status_at = now_ns
            self.status.update_from(s)
            self.act_save_recording.setEnabled(s.can_save_recording)
            self._update_key_figure()
            self.show_measured()

    def refresh_key_figure(self) -> None:
        """Recompute the key figure now (it is refreshed a few times a second)."""
        self._update_key_figure()

    def _update_key_figure(self) -> None:
        s = self.session
        r = s.reducer
        t = (s.t_display or r.last_t) if r is not None else 0  # the instant the diagram shows
        for bar in (self.figure_small, self.figure_big):
            bar.show_figure(s.scenario, r, t)

    @property
    def key_figure(self) -> KeyFigureBar:
        """The key figure's line on screen (large above the diagram when presenting)."""
        return self.figure_big if self.presenting else self.figure_small

    def show_measured(self) -> None:
        """What the run has measured, listed in the lesson text (a few times a second)."""
        s = self.session
        if s.scenario is not None and s.reducer is not None:
            self.lesson_text.show_measured(measured_lines(s.scenario, s.reducer))

    def _update_caption(self) -> None:
        s = self.session
        hang_after = s.scenario.run.hang_after if s.scenario else 3.0
        self.caption.show_status(s.status, s.reducer, hang_after, s.t_display)

    def _on_state(self, status: str) -> None:
        ra = self.actions_run
        ra.show_playing(status in ("running", "replaying"))
        ra.stop.setEnabled(self.session.run is not None)
        self.diagram.set_paused(not self.session.moving)
        self.act_save_recording.setEnabled(self.session.can_save_recording)
        self.status.show_state(status)
        self.status.update_from(self.session)
        self.show_measured()
        self._update_caption()
        self._update_key_figure()
        if status == "hung":
            self._hang_timer.start()

    def _on_source_changed(self) -> None:
        """The views switched between the live run and a replay, or a replay
        started or stopped playing."""
        s = self.session
        self.diagram.set_paused(not s.moving)
        self.knobs.setEnabled(s.mode != "replay")  # a knob would start a live run
        self.act_save_recording.setEnabled(s.can_save_recording)
        self.status.update_from(s)
        self._update_caption()

    def _on_session_error(self, text: str) -> None:
        self.show_error("The run failed", text)

    # ------------------------------------------------------------ look
    def set_theme(self, name: str) -> None:
        """Switch between the light and dark themes (kept in the settings)."""
        self.base_theme = THEMES.get(name, THEMES["light"])
        if self.base_theme.name in self.theme_actions:
            self.theme_actions[self.base_theme.name].setChecked(True)
        self._apply_theme(presentation(self.base_theme) if self.presenting else self.base_theme)
        if self.settings is not None:
            self.settings.setValue("theme", self.base_theme.name)

    def _apply_theme(self, theme: Theme) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setPalette(qt_palette(theme))  # type: ignore[arg-type]
        # every widget of the window gets the scaled font (1.5x to present)
        self.setStyleSheet(stylesheet(theme, QApplication.font().pointSizeF()))
        self.diagram.set_theme(theme, presenting=self.presenting)
        self._size_lines()
        self.actions_run.set_icon_colour(theme.text)
        icon = round(self.style().pixelMetric(QStyle.PixelMetric.PM_ToolBarIconSize))
        self.toolbar.setIconSize(QSize(icon, icon) * theme.font_scale)
        self.timeline.set_look(theme.text, round(icon * theme.font_scale * 0.75))

    def _size_lines(self) -> None:
        """The caption's and the key figure's type: large to present (in
        proportion to the screen), never below the legible minimum."""
        (cap_min, cap_max), (key_min, key_max) = line_sizes(self.presenting, self.height())
        self.caption.set_sizes(cap_min, cap_max)
        self.key_figure.set_sizes(key_min, key_max)
        self.figure_big.setVisible(self.presenting)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.presenting:
            self._size_lines()

    def toggle_presentation(self) -> None:
        self.set_presentation(not self.presenting)

    def set_presentation(self, on: bool, fullscreen: bool = True) -> None:
        """Presentation mode: full screen, large type, high contrast; the secondary
        docks, the menus and the toolbar hidden (the bars come back while the
        mouse is at the top edge); the diagram fills the screen."""
        self.act_presentation.setChecked(on)
        if on == self.presenting:
            return
        self.presenting = on
        if on:
            self._saved_state = self.saveState()
            self._was_maximized = self.isMaximized()
            for name in SECONDARY:
                self.docks[name].hide()
            self.chrome.hide_bars()
            self._apply_theme(presentation(self.base_theme))
            if fullscreen:
                self.showFullScreen()
            width = max(self.docks["lesson_text"].width(), self.width() // 4)
            self.resizeDocks([self.docks["lesson_text"]], [width], Qt.Orientation.Horizontal)
            self.programs.fit_dock()  # a program's code needs more room
        else:
            self.chrome.end()
            self._apply_theme(self.base_theme)
            self.restoreState(self._saved_state)
            if self.isFullScreen():
                if self._was_maximized:
                    self.showMaximized()
                else:
                    self.showNormal()

    def fit_docks(self) -> None:
        """Share the window between the docks and the diagram as suits its size
        (the bottom panels get about a quarter of the height: plots need it; the
        timeline's row comes out of theirs, so the diagram keeps its height)."""
        w, h = self.width(), self.height()
        self.resizeDocks(
            [self.docks["lessons"], self.docks["lesson_text"]],
            [max(220, w * 17 // 100), max(280, w * 22 // 100)],
            Qt.Orientation.Horizontal,
        )
        bottom = h * 27 // 100 - self.timeline.sizeHint().height()
        self.resizeDocks([self.docks["event_log"]], [max(140, bottom)], Qt.Orientation.Vertical)

    # ------------------------------------------------------------ settings
    def _restore_settings(self) -> None:
        st = self.settings
        theme = "light"
        if st is not None:
            geometry = st.value("geometry")
            if isinstance(geometry, QByteArray):
                self.restoreGeometry(geometry)
            state = st.value("state")
            if isinstance(state, QByteArray):
                self.restoreState(state)
            theme = str(st.value("theme", "light"))
        self.set_theme(theme)

    def last_lesson(self) -> str:
        """The lesson open when the app was last closed ('' if none)."""
        return str(self.settings.value("lesson", "")) if self.settings is not None else ""

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop every worker before the window goes; keep the layout."""
        self._hang_timer.stop()
        self.knobs.stop_pending()
        if self.presenting:
            self.set_presentation(False)
        if self.settings is not None:
            self.settings.setValue("geometry", self.saveGeometry())
            self.settings.setValue("state", self.saveState())
            self.settings.sync()
        self.session.shutdown()
        super().closeEvent(event)
