"""Wait for processes without polling: Linux pidfds become readable when their
process exits, and a FIFO when its writer writes or closes it, so a ``select``
on them is a real wait."""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable, Iterable


def wait_gone(pids: Iterable[int], timeout: float) -> set[int]:
    """Wait until every pid has exited (a zombie counts as exited); return those left."""
    fds: dict[int, int] = {}
    for pid in pids:
        try:
            fds[os.pidfd_open(pid)] = pid
        except ProcessLookupError:  # already gone
            continue
    deadline = time.monotonic() + timeout
    try:
        while fds:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select(list(fds), [], [], left)
            for fd in ready:
                os.close(fd)
                fds.pop(fd)
        return set(fds.values())
    finally:
        for fd in fds:
            os.close(fd)


def read_fifo(path: str | os.PathLike[str], timeout: float, alive: Callable[[], bool]) -> bytes:
    """Make ``path`` a FIFO and read what a process writes into it, until it closes
    it: a wait on the FIFO, not a poll of the file system. ``alive()`` False (the
    process that should write it has ended) fails at once."""
    os.mkfifo(path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # no writer yet: not EOF on Linux
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"{os.path.basename(path)} was never written"
            ready, _, _ = select.select([fd], [], [], min(left, 0.2))
            if not ready:
                assert alive(), f"the process ended without writing {os.path.basename(path)}"
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                return data  # the writer closed it
            data += chunk
    finally:
        os.close(fd)
