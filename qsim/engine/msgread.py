"""Reading one message off a queue's pipe, noticing a writer that stopped half-way.

``multiprocessing``'s ``Connection.recv_bytes`` blocks until the whole message
is there. If the process writing it is killed half-way (its feeder thread was
in the middle of a 1 MB item), the rest never comes, and nothing else can
write into the pipe either: the dead writer still holds the queue's write
lock. The reader would wait forever, deaf to stop, pause and a dead parent.

``MessageReader.read`` reads the same wire format (a 4-byte big-endian length,
or -1 and an 8-byte length, then the bytes) straight from the file
descriptor. A small message is read at once (it went into the pipe whole);
the rest of a larger one is waited for in slices, and each slice that brings
nothing calls ``on_stall``, which may report the stall and may raise to leave
(a stop). A small message costs two ``os.read`` calls, as with ``recv_bytes``,
with fewer Python frames around them.

Where the kernel can (Linux: ``preadv2`` with ``RWF_NOWAIT`` on a pipe),
``read_nowait`` asks for a message without blocking in one read, instead of
a ``poll()`` and then a read, and the rest of a large message is read as
far as it is there before any ``poll()``. A flat-out consumer of a 10 KB
item then makes the system calls a plain ``Queue.get()`` makes. The read end
itself stays blocking: other processes share it.
"""

from __future__ import annotations

import os
import pickletools
import select
import struct
from collections.abc import Callable
from multiprocessing.connection import Connection

_unpack_int = struct.Struct("!i").unpack
_unpack_long = struct.Struct("!Q").unpack
_read = os.read
STALL_SLICE_S = 0.02
#: a message this long was written with its 4-byte length in one ``write()``
#: of at most PIPE_BUF bytes, which a pipe takes whole or not at all
#: (``Connection._send_bytes`` joins length and bytes up to 16 KB)
ATOMIC = getattr(select, "PIPE_BUF", 512) - 4
#: bytes of a torn message kept to tell which item it was (``torn_item_id``)
PREFIX_BYTES = 64

_preadv = getattr(os, "preadv", None)
_RWF_NOWAIT = getattr(os, "RWF_NOWAIT", 0)


def _nowait_works() -> bool:
    """Does a non-blocking read of a pipe work here (an empty one says EAGAIN)?"""
    if _preadv is None or not _RWF_NOWAIT:
        return False
    r, w = os.pipe()
    try:
        _preadv(r, [bytearray(1)], -1, _RWF_NOWAIT)
    except BlockingIOError:
        return True
    except OSError:  # EOPNOTSUPP, EINVAL: an older kernel
        return False
    finally:
        os.close(r)
        os.close(w)
    return False


NOWAIT = _nowait_works()

#: ``on_stall(bytes_read, bytes_expected, first_bytes, seconds_stalled)``
StallCallback = Callable[[int, int, bytes, float], None]


class MessageReader:
    """Reads whole messages from the read end of a queue's pipe."""

    def __init__(self, conn: Connection) -> None:
        self.fd = conn.fileno()
        self.on_stall: StallCallback | None = None
        self._poll = select.poll()
        self._poll.register(self.fd, select.POLLIN)
        self._head = bytearray(4)
        self._heads = [self._head]
        #: one message if one is there now, else None: one non-blocking read
        #: where the kernel can, a poll and a read elsewhere
        self.read_nowait: Callable[[], bytes | bytearray | None] = (
            self._read_nowait if NOWAIT else self._poll_then_read
        )

    def read(self) -> bytes | bytearray:
        """One message; call only when the pipe is readable (and with the
        queue's read lock held, as ``Queue.get`` does)."""
        fd = self.fd
        head = _read(fd, 4)
        if len(head) != 4:
            if not head:
                raise EOFError
            head = bytes(self._rest(head, 4))
        return self._body(_unpack_int(head)[0])

    def _read_nowait(self) -> bytes | bytearray | None:
        try:
            n = _preadv(self.fd, self._heads, -1, _RWF_NOWAIT)  # type: ignore[misc]
        except BlockingIOError:
            return None
        if n != 4:
            if not n:
                raise EOFError
            return self._body(_unpack_int(bytes(self._rest(bytes(self._head[:n]), 4)))[0])
        return self._body(_unpack_int(self._head)[0])

    def _poll_then_read(self) -> bytes | bytearray | None:
        return self.read() if self._poll.poll(0) else None

    def _body(self, size: int) -> bytes | bytearray:
        if 0 <= size <= ATOMIC:
            # written with its length in one write(): all of it is here
            body = _read(self.fd, size)
            if len(body) == size:
                return body
            return self._rest(body, size)
        if size == -1:
            size = _unpack_long(bytes(self._rest(b"", 8)))[0]
        return self._rest(b"", size)

    def _rest(self, got: bytes, size: int) -> bytearray:
        """The rest of a message of ``size`` bytes that began with ``got``,
        waited for in slices (the writer may have died half-way)."""
        buf = bytearray(size)
        buf[: len(got)] = got
        view = memoryview(buf)
        n = len(got)
        stalled = 0.0
        try:
            while n < size:
                if NOWAIT:  # as far as it is there, without a poll first
                    try:
                        k = _preadv(self.fd, [view[n:]], -1, _RWF_NOWAIT)  # type: ignore[misc]
                    except BlockingIOError:
                        k = -1
                    if not k:  # every writer closed its end: no more will come
                        raise EOFError
                    if k > 0:
                        n += k
                        stalled = 0.0
                        continue
                if not self._poll.poll(STALL_SLICE_S * 1000):
                    stalled += STALL_SLICE_S
                    if self.on_stall is not None:
                        self.on_stall(n, size, bytes(view[:PREFIX_BYTES]), stalled)
                    continue
                k = os.readv(self.fd, [view[n:]])
                if not k:  # every writer closed its end: no more will come
                    raise EOFError
                n += k
                stalled = 0.0
        finally:
            view.release()
        return buf


def read_left(
    fd: int, unread: int, limit: int = 100_000
) -> tuple[list[tuple[int, int]], tuple[int, int] | None, bool]:
    """Once no process can write or read a queue's pipe any more: read the
    ``unread`` bytes left in it. Returns ``(item, bytes)`` of each whole
    message, ``(item, bytes)`` of a torn one at the end (or None), and whether
    every message was looked at (False past ``limit``)."""
    data = bytearray()
    while len(data) < unread:
        chunk = _read(fd, unread - len(data))  # they are there: it does not block
        if not chunk:
            break
        data += chunk
    whole: list[tuple[int, int]] = []
    pos = 0
    while pos + 4 <= len(data):
        size, start = _unpack_int(data[pos : pos + 4])[0], pos + 4
        if size == -1:
            if pos + 12 > len(data):
                break
            size, start = _unpack_long(data[pos + 4 : pos + 12])[0], pos + 12
        if start + size > len(data):
            break
        whole.append((torn_item_id(bytes(data[start : start + PREFIX_BYTES])), start + size - pos))
        pos = start + size
        if len(whole) >= limit:
            return whole, None, False
    if pos >= len(data):
        return whole, None, True
    start = min(pos + 4, len(data))
    return whole, (torn_item_id(bytes(data[start : start + PREFIX_BYTES])), len(data) - pos), True


def torn_item_id(prefix: bytes) -> int:
    """The item id in the first bytes of a pickled ``(kind, item, priority,
    payload)`` tuple (what workers put), or 0 if they do not tell."""
    ints: list[int] = []
    try:
        for op, arg, _pos in pickletools.genops(prefix):
            if op.name == "MARK":
                ints.clear()
            elif op.name in ("BININT", "BININT1", "BININT2", "LONG1") and isinstance(arg, int):
                ints.append(arg)
                if len(ints) == 2:
                    return ints[1]
            elif op.name not in ("PROTO", "FRAME"):
                return 0
    except (ValueError, EOFError):  # the prefix ends mid-opcode
        pass
    return 0
