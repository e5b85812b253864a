"""The processes of a session (a traced program and everything it started).

A traced program runs in a session of its own, so a stop can reach every
process of it, however deep, with one ``killpg``. Zombies do not count: an
orphan's parent may be an init that never reaps.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time


def session_members(sid: int) -> list[int]:
    """Live (not zombie) processes of session ``sid`` (Linux: /proc)."""
    if not os.path.isdir("/proc"):
        try:
            os.killpg(sid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [sid]
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # it ended while we looked
            continue
        # "pid (comm) state ppid pgrp session ...": comm may hold spaces
        fields = stat[stat.rfind(b")") + 2 :].split()
        if fields[0] != b"Z" and int(fields[3]) == sid:
            found.append(int(entry.name))
    return found


def wait_session_gone(sid: int, timeout: float) -> bool:
    """Wait until no live process is left in session ``sid``; True if none is."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while session_members(sid):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        # polling /proc: there is no event for "the last of a group ended"
        time.sleep(min(delay, left))
        delay = min(delay * 2, 0.1)
    return True


def signal_session(sid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(sid, sig)


def end_session(sid: int, grace: float = 0.5) -> bool:
    """SIGTERM, then SIGKILL, to every process of session ``sid``; True if none is left."""
    if not session_members(sid):
        return True
    signal_session(sid, signal.SIGTERM)
    if wait_session_gone(sid, grace):
        return True
    signal_session(sid, signal.SIGKILL)
    return wait_session_gone(sid, 2.0)
