"""No process of a run outlives the process that started it, whatever it is doing.

A worker's own checks (``Runtime._check_parent``, every 100 ms between queue
operations) cannot see the controller die while the worker is stuck in a
system call: writing into its full event pipe, or reading an item whose
writer died half-way. And under ``fork`` the parent check itself lies: every
child inherits the write ends of its earlier siblings' "parent alive" pipes,
so a worker's parent looks alive as long as a sibling lives.

The life line is a pipe whose write end only the controller holds. Every
process of the run (workers, the manager, the processes a lesson's main
starts itself) watches the read end on a daemon thread, which blocks in one
``wait`` and costs nothing; when the controller is gone, by SIGKILL or
anything else, the read end reports end-of-file and the thread ends the
process at once (``os._exit``).

Under ``fork`` a child inherits every descriptor the controller has, so the
write end and the controller's other private ends (the read ends of the
workers' event pipes: a worker holding its own read end would never get
``EPIPE`` writing into a pipe nobody reads) are closed in every forked child
right after the fork (``os.register_at_fork``). Under ``spawn`` and
``forkserver`` a child gets only what it is passed.

``prctl(PR_SET_PDEATHSIG)`` is not used: on Linux it fires when the *thread*
that started the child ends, and the GUI starts its runs on a thread.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from multiprocessing.connection import Connection, Pipe, wait

#: the exit code of a process that left because its controller died
EXIT_ORPHANED = 75

#: connections only the controller may hold: closed in every forked child
_controller_only: weakref.WeakSet[Connection] = weakref.WeakSet()
_at_fork = threading.Lock()
_registered: list[bool] = []


def controller_only(*conns: Connection) -> None:
    """Close ``conns`` in every child this process forks from now on."""
    with _at_fork:
        if not _registered and hasattr(os, "register_at_fork"):
            # no fork while a thread closes one of them (``close_controller_end``)
            os.register_at_fork(
                before=_at_fork.acquire,
                after_in_parent=_at_fork.release,
                after_in_child=_close_controller_only,
            )
            _registered.append(True)
        for c in conns:
            _controller_only.add(c)


def close_controller_end(c: Connection) -> None:
    """Close ``c``, one of ours, with no fork in the middle.

    ``Connection.close`` closes the descriptor, then notes that it did. A fork
    in between (the collector closes a worker's pipe on its own thread while
    the run forks the next worker) would leave the child a connection that
    looks open and a descriptor number that the fork's own new pipes may
    already reuse: the child's hook would close those, and the child would
    die at once with exit code 1, before its first event (seen under load:
    twice in 1,100 runs)."""
    with _at_fork:
        c.close()


def _close_controller_only() -> None:
    try:
        for c in list(_controller_only):
            if not c.closed:
                with contextlib.suppress(OSError):
                    c.close()
        _controller_only.clear()
    finally:
        # held across the fork by the forking thread (the ``before`` hook): the
        # child's copy is still held
        with contextlib.suppress(RuntimeError):
            _at_fork.release()


class LifeLine:
    """The controller's end: keep it open while the run lives, close it to end it."""

    def __init__(self) -> None:
        self.reader, self._writer = Pipe(duplex=False)
        self.owner = os.getpid()
        controller_only(self._writer)

    def close(self) -> None:
        """Every process still watching this line ends now."""
        close_controller_end(self._writer)
        self.reader.close()


def watch(reader: Connection | None, owner: int = 0, what: str = "qsim-life-line") -> None:
    """In a child: end this process as soon as the controller (pid ``owner``) is
    gone. Nothing in the controller itself (it closes the line at every stop)."""
    if reader is None or os.getpid() == owner:
        return

    def wait_for_eof() -> None:
        # nothing is ever written: the end is readable only at end-of-file
        with contextlib.suppress(OSError, ValueError):
            wait([reader])
        os._exit(EXIT_ORPHANED)

    threading.Thread(target=wait_for_eof, name=what, daemon=True).start()
