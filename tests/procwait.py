"""Wait for processes to end without polling: Linux pidfds become readable
when their process exits, so a ``select`` on them is a real wait."""

from __future__ import annotations

import os
import select
import time
from collections.abc import Iterable


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
