"""How many bytes wait unread in a pipe, and how many it can hold, asked of
the operating system (stdlib only: the agent and the engine both ask).

Any process that holds either end of a pipe may ask: the count belongs to the
pipe, not to the end. Where the OS cannot tell, the answer says so.
"""

from __future__ import annotations

import array
import sys

F_GETPIPE_SZ = 1032  # Linux's fcntl command (fcntl.F_GETPIPE_SZ from Python 3.10, Linux only)


def unread_bytes(fd: int) -> int | None:
    """Bytes waiting in the pipe ``fd`` reads from (None: the OS cannot tell)."""
    try:
        import fcntl
        import termios
    except ImportError:  # Windows
        return None
    buf = array.array("i", [0])
    try:
        fcntl.ioctl(fd, termios.FIONREAD, buf, True)
    except OSError:
        return None
    return int(buf[0])


def pipe_capacity(fd: int) -> int:
    """The pipe's buffer in bytes (0: unknown)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        import fcntl

        return int(fcntl.fcntl(fd, getattr(fcntl, "F_GETPIPE_SZ", F_GETPIPE_SZ)))
    except (ImportError, OSError):
        return 0
