"""How a traced process ends: its own end, a stop, ``terminate()``, a lost controller.

Whichever way, the process says so once and sends what it has buffered, and
it never ends in the middle of a send: a batch is counted as sent before it
goes, so a torn one would show as events lost.

``terminate()`` (SIGTERM) is the delicate one. A ``Pool`` does it at the end
of every ``with`` block, so it often lands while a worker is inside a put:
its item already written into the pipe (the parent may have got it), the put
not noted yet. Ending there would show an item got but never put. So a
process terminated inside one of the agent's puts lets that put finish and
note itself first (at most ``PUT_WAIT_S``: a put into a full pipe may never
finish), and begins no queue operation after it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from types import CodeType, FrameType
from typing import TYPE_CHECKING, Any

from qsim.model.events import EventKind as K

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from qsim.model.wire import EventBuffer

EXIT_ORPHANED = 70  # the controller died: the process ends itself with this code
#: how long the main process waits at its end for the controller's end-of-file
#: once a child has ended orphaned (see ``leave_no_folder``)
ORPHAN_WAIT_S = 0.5
#: longest a process that must end waits for another thread's send to end
TERM_WAIT_S = 2.0
#: longest a terminated process lets a put it is in finish (and note itself)
PUT_WAIT_S = 0.25

_sleep = time.sleep  # the real one (imported before the program's is patched)

#: the code of the agent's puts (``note_puts``)
PUT_CODES: set[CodeType] = set()


def note_puts(*fns: Any) -> None:
    """``fns`` write items into a queue, then note it: a terminated process
    waits for them to finish (see the module's docstring)."""
    PUT_CODES.update(f.__code__ for f in fns)


def _in_put(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code in PUT_CODES:
            return True
        frame = frame.f_back
    return False


def putting() -> bool:
    """A thread of this process is inside one of the agent's puts."""
    return any(_in_put(f) for f in sys._current_frames().values())


class Ending:
    """The ``Agent``'s ways to end (a mixin: the state is the Agent's)."""

    lock: threading.Lock
    conn: Connection | None
    cfg: dict[str, str]
    buf: EventBuffer
    finished: bool
    is_main: bool
    parked: bool
    #: the thread sending a batch now (0: none), and a SIGTERM waiting to be
    #: answered (by that send once done, or by the helper ``_answer_term``)
    sending: int
    term_pending: int
    #: the main thread waits in ``hold`` for the helper to end the process
    holding: bool
    #: a child of this process ended itself because the controller is gone
    child_orphaned: bool

    def _flush_locked(self) -> None:
        raise NotImplementedError  # the Agent's

    # ------------------------------------------------------------ its own end
    def finish(self, code: int, reason: str = "") -> None:
        """The process ends with ``code``: say so (once) and send everything."""
        with self.lock:
            self._finish_locked(code, reason)

    def _finish_locked(self, code: int, reason: str) -> None:
        if self.finished or self.conn is None:
            return
        self.finished = True
        if code == 0 or reason:
            self.buf.add(K.ACTOR_EXITED, 0, -1, reason or code)
        else:
            self.buf.add(K.ACTOR_CRASHED, 0, -1, code)
        self._flush_locked()

    def exit_now(self, reason: str, code: int) -> None:
        """End this process at once (a stop, or the controller died).

        The lock is held to the end: the main thread and the control thread
        may both see the stop, and neither may end the process while the
        other is in the middle of a send."""
        if self.lock.acquire(timeout=TERM_WAIT_S):  # else a send never ends: go unreported
            self._finish_locked(code, reason)
        os._exit(code)

    # ------------------------------------------------------------ terminate()
    def install_sigterm(self) -> None:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, self.on_sigterm)

    def on_sigterm(self, signum: int, frame: Any) -> None:
        """``terminate()`` by the program (or a stop): report, then die by the signal.

        The handler runs in the main thread between two bytecodes, possibly
        inside our own locked section: it never waits for the lock there.
        """
        if self.sending == threading.get_ident():
            # it interrupted our own send: the batch is counted as sent, so it
            # must reach the controller whole; the send answers it when done
            self.term_pending = signum
            return
        signal.signal(signum, signal.SIG_DFL)  # from now on the signal ends us
        if not putting() and self.lock.acquire(False):
            try:
                self._terminated(signum)
            finally:
                self.lock.release()
            return
        # a put is under way, or the lock is held: by another thread (its send
        # ends soon), or by this very thread, interrupted in its locked
        # section. A helper ends the process once they are done; meanwhile
        # the process goes on, but begins no queue operation (``hold``)
        self.term_pending = signum
        self.parked = True  # the next put or get calls turn(), which holds
        try:
            threading.Thread(target=self._answer_term, name="qsim-term", daemon=True).start()
        except RuntimeError:  # the interpreter is ending: no new thread
            os.kill(os.getpid(), signum)

    def hold(self) -> None:
        """Terminated: wait here for the helper to end the process."""
        self.holding = True
        while True:
            _sleep(0.005)

    def _answer_term(self) -> None:
        signum = self.term_pending or signal.SIGTERM
        end = time.monotonic() + PUT_WAIT_S
        while putting() and not self.holding and time.monotonic() < end:
            _sleep(0.001)
        if self.lock.acquire(timeout=TERM_WAIT_S):
            try:
                self._terminated(signum)
            finally:
                self.lock.release()
        os.kill(os.getpid(), signum)  # a send that never ends: die unreported

    def _terminated(self, signum: int) -> None:
        """Say "terminated" and send it (the lock held), then die by ``signum``."""
        self.term_pending = 0
        if not self.finished and self.conn is not None:
            self.finished = True
            self.buf.add(K.ACTOR_EXITED, 0, -1, "terminated")
            self._flush_locked()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signum, signal.SIG_DFL)  # else on_sigterm has done it
        os.kill(os.getpid(), signum)

    # ------------------------------------------------------------ no controller
    def leave_no_folder(self) -> None:
        """At the main process's very end: if the controller is gone, remove the
        run's folder (the control thread may not have had its turn: a daemon
        thread stops where it is when the interpreter exits).

        A child that ended orphaned saw the controller go: its end of our
        socket may not be closed yet (a killed process closes its sockets one
        by one, and on a busy machine that can take milliseconds), so the
        end-of-file is waited for a moment."""
        conn = self.conn
        if not self.is_main or conn is None:
            return
        try:
            if conn.poll(ORPHAN_WAIT_S if self.child_orphaned else 0):
                conn.recv_bytes()  # nothing is sent after the hello: this is EOF
            return  # the controller is there: it removes the folder itself
        except (EOFError, OSError):
            pass
        self._remove_folder()

    def _controller_gone(self) -> None:
        if self.is_main:  # nobody else will remove the run's private folder
            self._remove_folder()
        os._exit(EXIT_ORPHANED)

    def _remove_folder(self) -> None:
        """Remove the run's private folder (the controller died: nobody else will)."""
        import shutil

        # a child still starting may register a queue (create the registry
        # file again) between the removal of the files and of the folder
        for _ in range(5):
            shutil.rmtree(self.cfg["dir"], ignore_errors=True)
            if not os.path.exists(self.cfg["dir"]):
                return
            _sleep(0.01)
