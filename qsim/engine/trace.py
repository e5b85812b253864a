"""``TraceRun``: run a user's unmodified Python program with every process traced.

The controller side of ``qsim trace`` (no Qt). The program runs as
``python -m qsim.agent SCRIPT ARGS`` in a session of its own; the agent in
each of its processes connects back over a Unix socket in a private 0700
folder, authenticated with a random key (no TCP port), and sends the same
binary event batches as scenario workers, into the same ``Collector``. The
controller numbers the processes per connection (actor 0 is the main
process); the reducer learns names, queues and lines from the events.

Pause, step, speed and stop reach the program through a shared control block
(``qsim.agent.control``), like ``RunControl`` for scenario runs. Stop is
graceful (the stop byte: every process reports and exits), then firm:
SIGTERM and SIGKILL to the program's session. When the controller dies, each
process reads EOF on its socket and ends itself: no orphans.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from multiprocessing import AuthenticationError
from multiprocessing.connection import Listener
from pathlib import Path
from typing import IO, Any

import numpy as np

from qsim.agent import protocol as P
from qsim.agent.control import ControlBlock
from qsim.engine.collector import Collector
from qsim.engine.proctree import end_session, session_members, wait_session_gone
from qsim.engine.trace_check import TraceError, check_program
from qsim.engine.trace_hang import hung_processes, where_stuck
from qsim.model.events import FLAG_INTERNAL, EventKind, make_event
from qsim.model.state import Reducer
from qsim.model.topology import Topology

__all__ = ["TraceError", "TraceRun", "agent_command"]

OUTPUT_LIMIT = 4 << 20  # bytes of the program's stdout/stderr kept when captured
_GOODBYE = (int(EventKind.ACTOR_EXITED), int(EventKind.ACTOR_CRASHED))
_STARTED = int(EventKind.PROCESS_STARTED)


def agent_command(script: str, args: Sequence[str], python: str | None = None) -> list[str]:
    """How to start the agent: the packaged app runs it through its own executable."""
    if python is None and getattr(sys, "frozen", False):
        return [sys.executable, "--qsim-agent", script, *args]
    return [python or sys.executable, "-m", "qsim.agent", script, *args]


class TraceRun:
    """One traced run of a program (the surface of ``Run`` where it makes sense)."""

    def __init__(
        self,
        script: str | Path,
        args: Sequence[str] = (),
        speed: float = 1.0,
        capture_output: bool = False,
        python: str | None = None,
        on_records: Callable[[np.ndarray], None] | None = None,
        internals: bool = False,
        lines: bool = False,
    ) -> None:
        """Raises ``TraceError`` (from ``check_program``) for a program that is
        not there or not Python; nothing has started then. ``internals``: the
        agents report where each Queue's items are (feeder buffer, pipe).
        ``lines``: track every line the program runs from the start (see
        ``set_lines``), not only samples of it."""
        self.internals = internals
        self.script = os.path.abspath(script)
        self.args = list(args)
        check_program(self.script)
        self.python = python
        self.start_method = "program's own"
        self.topology = Topology((), (), traced=True)  # the reducer grows it from the events
        self.capture_output = capture_output
        self.stdout = bytearray()
        self.stderr = bytearray()
        self._user_on_records = on_records
        self.collector = Collector(
            on_eof=self._on_eof, on_records=self._on_records, actor_from_conn=True
        )
        self.dir = tempfile.mkdtemp(prefix="qsim-trace-")  # 0700: only we can connect
        self.control = ControlBlock(self.dir, create=True)
        self.control.set_speed(speed)
        self.control.set_lines(lines)
        self._key = secrets.token_bytes(32)
        self._address = os.path.join(self.dir, P.SOCKET_NAME)
        self._listener = Listener(self._address, family="AF_UNIX", authkey=self._key)
        self.proc: subprocess.Popen[bytes] | None = None
        self.exit_codes: dict[int, int | None] = {}
        self.started_ns = 0
        self.stopped_ns = 0
        self._actors = 0  # connections accepted (actor indexes given)
        self._goodbye: set[int] = set()  # actors that reported their own end
        self._internal: set[int] = set()  # a Pool's or an executor's workers
        self._started: set[int] = set()  # actors whose PROCESS_STARTED came
        self._lock = threading.Lock()
        self._accepting = False
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._emitted_at_stop = 0
        self.start_error = ""

    # ------------------------------------------------------------ start
    def start(self) -> None:
        cfg = {"address": self._address, "key": self._key.hex(), "dir": self.dir}
        if self.internals:
            cfg["internals"] = "1"
        env = dict(os.environ)
        env[P.ENV] = json.dumps(cfg)
        if self.python is not None:  # another interpreter must find the agent too
            root = str(Path(__file__).resolve().parents[2])
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        pipe = subprocess.PIPE if self.capture_output else None
        self.started_ns = time.monotonic_ns()
        self.proc = subprocess.Popen(
            agent_command(self.script, self.args, self.python),
            env=env,
            cwd=os.path.dirname(self.script),
            stdin=subprocess.DEVNULL,
            stdout=pipe,
            stderr=pipe,
            start_new_session=True,  # a stop reaches every process of it
        )
        self._thread(self._accept_loop, "qsim-trace-accept")
        out, err = self.proc.stdout, self.proc.stderr
        if out is not None and err is not None:
            self._thread(lambda: self._read(out, self.stdout), "qsim-trace-out")
            self._thread(lambda: self._read(err, self.stderr), "qsim-trace-err")

    def start_in_background(self) -> threading.Thread:
        """``start()`` on a thread (as ``Run``'s); a failure lands in ``start_error``."""

        def target() -> None:
            try:
                self.start()
            except OSError as e:  # the interpreter cannot be started
                self.start_error = f"{type(e).__name__}: {e}"

        t = threading.Thread(target=target, name="qsim-trace-starter", daemon=True)
        t.start()
        return t

    def _thread(self, target: Callable[[], None], name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    @staticmethod
    def _read(pipe: IO[bytes], into: bytearray) -> None:
        while chunk := pipe.read1(65536):  # type: ignore[attr-defined]
            if len(into) < OUTPUT_LIMIT:
                into += chunk[: OUTPUT_LIMIT - len(into)]
        pipe.close()

    def _accept_loop(self) -> None:
        sock = self._listener._listener._socket  # type: ignore[attr-defined]
        while not self._stopping:
            try:
                ready, _, _ = select.select([sock], [], [], 0.1)
            except (OSError, ValueError):  # closed by stop()
                return
            if not ready:
                continue
            with self._lock:
                self._accepting = True
            try:
                conn = self._listener.accept()
            except (OSError, AuthenticationError, EOFError):
                with self._lock:
                    self._accepting = False
                continue
            with self._lock:
                actor = self._actors
                self._actors += 1
                try:
                    conn.send_bytes(P.HELLO.pack(actor))
                except OSError:
                    conn.close()
                else:
                    self.collector.add(conn, actor)
                self._accepting = False

    # ------------------------------------------------------------ events
    def _on_records(self, arr: np.ndarray) -> None:
        kinds = arr["kind"]
        bye = (kinds == _GOODBYE[0]) | (kinds == _GOODBYE[1])
        if bye.any():
            self._goodbye.update(int(a) for a in arr["actor"][bye])
        started = kinds == _STARTED
        if started.any():
            self._started.update(int(a) for a in arr["actor"][started])
            born = started & ((arr["flags"] & FLAG_INTERNAL) != 0)
            self._internal.update(int(a) for a in arr["actor"][born])
        if self._user_on_records is not None:
            self._user_on_records(arr)

    def _on_eof(self, actor: int) -> None:
        """A process's connection closed. One that did not say goodbye was killed
        (or called os._exit): report it crashed, with its exit code if we know it."""
        code: int | None = None
        if actor == 0 and self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self.proc.wait(2.0)
            self.exit_codes[0] = code
        if actor in self._goodbye or self._stopping:
            return
        if actor not in self._started:
            # connected, then ended before its first batch (a Pool's terminate()
            # right after it started): it never appeared, so nothing ends on
            # screen (an event for an actor the window never met is refused)
            return
        if actor in self._internal and actor != 0:
            # a Pool's or an executor's worker: its pool ends it with terminate(),
            # which may come while it is saying goodbye (not a crash)
            why = "ended by its pool (terminate())"
            ev = make_event(time.monotonic_ns(), actor, EventKind.ACTOR_EXITED, value=why)
            self.collector.inject([ev])
            return
        value: Any = code if code is not None else "ended without a word (killed?)"
        ev = make_event(time.monotonic_ns(), actor, EventKind.ACTOR_CRASHED, value=value)
        self.collector.inject([ev])

    def inject(self, actor: int, kind: EventKind, value: Any = None, queue: int = -1) -> None:
        self.collector.inject([make_event(time.monotonic_ns(), actor, kind, 0, queue, value)])

    # ------------------------------------------------------------ state
    @property
    def n_actors(self) -> int:
        return self._actors

    @property
    def events_emitted(self) -> int:
        if self.stopped_ns:
            return self._emitted_at_stop
        return self.control.emitted(self._actors)

    @property
    def events_received(self) -> int:
        return self.collector.received

    @property
    def finished(self) -> bool:
        """The main process has ended and every process's connection is closed."""
        if self.proc is None or self.proc.poll() is None:
            return False
        with self._lock:
            return not self._accepting and self.collector.open_count == 0

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.returncode

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc is not None else 0

    def alive(self) -> list[int]:
        """Pids of the program's processes still running."""
        return session_members(self.pid) if self.proc is not None else []

    # ------------------------------------------------------------ control
    def pause(self) -> None:
        self.control.set_paused(True)

    def resume(self) -> None:
        self.control.set_paused(False)

    def step(self) -> None:
        self.control.step()

    def set_speed(self, speed: float) -> float:
        from qsim.engine.control import clamp_speed

        self.control.set_speed(clamp_speed(speed))
        return self.control.speed

    def set_lines(self, on: bool) -> None:
        """Track every line the program's processes run (``sys.monitoring`` on
        Python 3.12+, ``sys.settrace`` on 3.10/3.11, the program's own files
        only), or only sample them a few times a second (off: free)."""
        if not self.stopped_ns:
            self.control.set_lines(on)

    def set_throttle(self, us: int) -> None:
        if not self.stopped_ns:
            self.control.set_throttle(us)

    def request_stop(self) -> None:
        if not self.stopped_ns:
            self.control.request_stop()

    def watch_hangs(self, reducer: Reducer, hang_after: float) -> list[str]:
        """Mark the program's processes hung (once each) if all of them wait with
        no hope; return their names. The reason names the line each waits on."""
        if self.collector.pending():
            return []
        hung = hung_processes(reducer, time.monotonic_ns(), hang_after)
        for a in hung:
            if not a.hung:
                why = f"{where_stuck(reducer, a)}, no progress for {hang_after:g} s"
                self.inject(a.index, EventKind.HUNG, why)
                a.hung = True
        return [a.name for a in hung]

    @property
    def paused(self) -> bool:
        return self.control.paused

    @property
    def speed(self) -> float:
        return self.control.speed

    # ------------------------------------------------------------ stop
    def wait(self, timeout: float) -> bool:
        """Wait (not in the GUI!) until the run has finished by itself."""
        deadline = time.monotonic() + timeout
        while not self.finished:
            if time.monotonic() >= deadline:
                return False
            self.collector.wait_all_closed(min(0.1, max(0.0, deadline - time.monotonic())))
            if self.proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(0.01)
        return True

    def stop(self, grace: float = 2.0) -> None:
        """End every process of the program: stop byte, then SIGTERM/SIGKILL. Idempotent."""
        if self.stopped_ns:
            return
        ended_itself = self.finished
        self._stopping = not ended_itself
        self.control.request_stop()
        if self.proc is not None:
            sid = self.proc.pid
            if not ended_itself:
                wait_session_gone(sid, grace)
            # whatever is left (a helper that ignores the stop byte, a process
            # stuck in a C call) goes now; after a normal end, helpers such as
            # multiprocessing's resource tracker get a moment to leave by themselves
            if not wait_session_gone(sid, 0.0 if self._stopping else 1.0):
                end_session(sid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(2.0)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.exit_codes.setdefault(0, self.proc.returncode)
        self._stopping = True
        self.collector.wait_all_closed(1.0)
        self._listener.close()
        for t in self._threads:
            t.join(2.0)
        self.collector.close()
        self._emitted_at_stop = self.control.emitted(self._actors)
        self.control.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.stopped_ns = time.monotonic_ns()

    def __enter__(self) -> TraceRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
