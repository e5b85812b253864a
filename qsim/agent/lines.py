"""Line tracking: the line a process runs, kept up to date.

Off, a process's line is sampled (``where``: the control thread reads the
main thread's frame 20 times a second; a waiting or parked process walks its
stack: exact). On (the window's code view asks for it through the control
block), every line of the *program's own* code updates ``current``:

* Python 3.12+: ``sys.monitoring``. PY_START is on everywhere only until it
  has seen a code object once (it returns ``DISABLE``); LINE events are then
  switched on for the program's own code objects alone, so library code (the
  queues, pickling, the agent) runs at full speed.
* Python 3.10/3.11: ``sys.settrace`` whose global tracer returns a local one
  only for frames of the program's files. ``sys.settrace`` applies to the
  thread that calls it, so a request from the control thread is carried out
  by the main thread at its next queue operation, sleep slice or flush.

Recording a line costs an attribute write; the agent sends the line with its
next batch (and the control thread every beat), never an event per line.
"""

from __future__ import annotations

import sys
import threading
from types import CodeType, FrameType
from typing import Any

from qsim.agent import where

_MONITORING = sys.version_info >= (3, 12)
#: sys.monitoring tool ids tried (0-2 and 5 are named: debugger, coverage, profiler, optimizer)
_TOOL_IDS = (4, 3)


class LineTracker:
    """Keeps ``current`` = (file, line) of the newest line of the program's own code.

    The hot callbacks only store the code object and the line number (no
    tuple, no thread check: with sys.monitoring that took line tracking's
    cost on a flat-out 1:1 program from ~33% to ~5% of the traced rate);
    ``current`` is built when read. A reader may see a new code object with
    the old line for one report; a thread of the program's own may report its
    line too (rare in tutorial programs)."""

    def __init__(self) -> None:
        self._code: CodeType | None = None
        self._line = 0
        self.on = False  # tracking now
        self.wanted = False  # asked for (settrace: the main thread applies it)
        self.main = threading.main_thread().ident
        self._tool = -1
        self._enabled: set[CodeType] = set()

    # ------------------------------------------------------------ switching
    @property
    def current(self) -> tuple[str, int] | None:
        code = self._code
        return (code.co_filename, self._line) if code is not None else None

    def forget(self) -> None:
        self._code = None

    def want(self, on: bool) -> None:
        """Ask for tracking on or off, from any thread."""
        self.wanted = on
        if _MONITORING:  # process-wide: done here and now
            self._switch(on)
        elif threading.get_ident() == self.main:
            self.apply()

    def apply(self) -> None:
        """In the main thread: carry out a pending request (settrace)."""
        if self.wanted != self.on and threading.get_ident() == self.main:
            self._switch(self.wanted)

    def after_fork(self) -> None:
        """In a forked child: its one thread is the main thread now, and the line
        the parent was on (its ``p.start()``) is not the child's."""
        self.main = threading.get_ident()
        self._code = None

    def _switch(self, on: bool) -> None:
        if on == self.on:
            return
        if _MONITORING:
            self._monitoring(on)
        else:
            self._settrace(on)
        self.on = on
        if not on:
            self._code = None

    # ------------------------------------------------------------ 3.12+
    def _monitoring(self, on: bool) -> None:
        mon: Any = sys.monitoring  # type: ignore[attr-defined, unused-ignore]
        E = mon.events
        if on:
            if self._tool < 0:
                for tool in _TOOL_IDS:
                    if mon.get_tool(tool) is None:
                        mon.use_tool_id(tool, "qsim")
                        self._tool = tool
                        break
                else:
                    return  # every free id is taken (a debugger, a profiler): sample
                mon.register_callback(self._tool, E.PY_START, self._on_start)
                mon.register_callback(self._tool, E.LINE, self._on_line)
            mon.set_events(self._tool, E.PY_START)
            for frame in list(sys._current_frames().values()):  # code already running
                f: FrameType | None = frame
                while f is not None:
                    self._enable(f.f_code)
                    f = f.f_back
            return
        if self._tool < 0:
            return
        mon.set_events(self._tool, 0)
        for code in self._enabled:
            mon.set_local_events(self._tool, code, 0)
        self._enabled.clear()
        mon.restart_events()  # PY_START may be wanted again later

    def _enable(self, code: CodeType) -> None:
        if code not in self._enabled and where.is_user(code):
            sys.monitoring.set_local_events(  # type: ignore[attr-defined, unused-ignore]
                self._tool,
                code,
                sys.monitoring.events.LINE,  # type: ignore[attr-defined, unused-ignore]
            )
            self._enabled.add(code)

    def _on_start(self, code: CodeType, offset: int) -> Any:
        self._enable(code)
        return sys.monitoring.DISABLE  # type: ignore[attr-defined, unused-ignore]

    def _on_line(self, code: CodeType, line: int) -> None:
        self._code = code
        self._line = line

    # ------------------------------------------------------------ 3.10, 3.11
    def _settrace(self, on: bool) -> None:
        if not on:
            sys.settrace(None)
            f: FrameType | None = sys._getframe()
            while f is not None:
                f.f_trace = None
                f = f.f_back
            return
        local = self._local
        # frames already running get the local tracer now (settrace covers new calls)
        f = sys._getframe()
        while f is not None:
            if where.is_user(f.f_code):
                f.f_trace = local
                f.f_trace_lines = True
            f = f.f_back
        sys.settrace(self._global)

    def _global(self, frame: FrameType, event: str, arg: Any) -> Any:
        return self._local if where.is_user(frame.f_code) else None

    def _local(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            self._code = frame.f_code
            self._line = frame.f_lineno
        return self._local
