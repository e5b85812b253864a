"""How many bytes wait unread in a queue's pipe, read off the pipe itself.

The workers report each item that enters a pipe (``qsim.engine.feeder``);
this is the cross-check: the controller holds the same pipes (it made the
queues), and every ``PROBE_EVERY_S`` it asks the operating system how many
bytes are unread (``FIONREAD``) and how big the pipe's buffer is
(``F_GETPIPE_SZ``, Linux), and reports a change as a ``PIPE_SAMPLE`` event.
Where the OS cannot tell, nothing is reported.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from qsim.agent.pipes import pipe_capacity, unread_bytes
from qsim.model.events import EventKind

__all__ = ["PipeProbe", "pipe_capacity", "unread_bytes"]

PROBE_EVERY_S = 0.1

Inject = Callable[[int, EventKind, Any, int, int], None]


class PipeProbe:
    """Samples the unread bytes of some queues' pipes on a thread of its own."""

    def __init__(self, queues: dict[int, Any], inject: Inject) -> None:
        """``queues``: queue index -> the real queue (with a ``_reader`` pipe end)."""
        self._fds: dict[int, int] = {}
        for qi, q in queues.items():
            reader = getattr(q, "_reader", None)
            with contextlib.suppress(OSError, ValueError, AttributeError):
                self._fds[qi] = reader.fileno()  # type: ignore[union-attr]
        self._inject = inject
        self._last: dict[int, int] = {}
        self._capacity = {qi: pipe_capacity(fd) for qi, fd in self._fds.items()}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._fds:
            self._thread = threading.Thread(target=self._loop, name="qsim-pipe-probe", daemon=True)
            self._thread.start()

    def sample(self) -> None:
        for qi, fd in self._fds.items():
            n = unread_bytes(fd)
            if n is not None and n != self._last.get(qi):
                self._last[qi] = n
                self._inject(0, EventKind.PIPE_SAMPLE, n, qi, self._capacity[qi])

    def _loop(self) -> None:
        while not self._stop.wait(PROBE_EVERY_S):
            self.sample()

    def stop(self) -> None:
        """Stop sampling (before the queues' pipes are closed)."""
        self._stop.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(2.0)
