"""The traced run's shared state: the control block and the queue registry.

Both are small files in the run's private folder, shared by the controller and
every process of the program (however it was started: fork, spawn,
forkserver), so no message has to reach a process for it to see a pause.

* ``ControlBlock``: a memory-mapped block (layout in ``protocol``). The hot
  path reads one byte (paused); permits and pending steps change under a
  file lock, as ``RunControl``'s semaphore does for scenario runs.
* ``Registry``: gives every queue a run-wide index in creation order, from
  any process, under a file lock; a key (a manager queue's token) finds the
  index another process already gave it.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from qsim.agent import protocol as P


class ControlBlock:
    def __init__(self, folder: str, create: bool = False) -> None:
        path = os.path.join(folder, P.CONTROL_NAME)
        flags = os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0)
        self._fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
        if create:
            os.ftruncate(self._fd, P.CONTROL_SIZE)
        self.mm = mmap.mmap(self._fd, P.CONTROL_SIZE)
        if create:
            P.F64.pack_into(self.mm, P.SPEED, 1.0)
        self._tlock = threading.Lock()  # flock does not exclude threads sharing the fd

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._tlock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def after_fork(self) -> None:
        """In a forked child: the thread lock may have been held by a thread
        that does not exist here."""
        self._tlock = threading.Lock()

    def close(self) -> None:
        self.mm.close()
        os.close(self._fd)

    # --------------------------------------------------------------- reads
    @property
    def paused(self) -> bool:
        return bool(self.mm[P.PAUSED])

    @property
    def stop(self) -> bool:
        return bool(self.mm[P.STOP])

    @property
    def speed(self) -> float:
        return float(P.F64.unpack_from(self.mm, P.SPEED)[0])

    @property
    def lines(self) -> bool:
        return bool(self.mm[P.LINES])

    def throttle_us(self) -> int:
        return int(P.I64.unpack_from(self.mm, P.THROTTLE)[0])

    def pending(self) -> int:
        return int(P.I64.unpack_from(self.mm, P.PENDING)[0])

    def emitted(self, n_actors: int) -> int:
        n = min(n_actors, P.MAX_TRACED_ACTORS)
        mm = self.mm
        return sum(P.I64.unpack_from(mm, P.EMITTED + 8 * a)[0] for a in range(n))

    # ---------------------------------------------------- controller side
    def set_paused(self, paused: bool) -> None:
        if paused:
            self.mm[P.PAUSED] = 1
            return
        with self._locked():  # unused permits must not leak into a later pause
            P.I64.pack_into(self.mm, P.PERMITS, 0)
            P.I64.pack_into(self.mm, P.PENDING, 0)
        self.mm[P.PAUSED] = 0

    def step(self) -> None:
        with self._locked():
            for off in (P.PERMITS, P.PENDING):
                P.I64.pack_into(self.mm, off, P.I64.unpack_from(self.mm, off)[0] + 1)

    def set_speed(self, speed: float) -> None:
        P.F64.pack_into(self.mm, P.SPEED, float(speed))

    def set_lines(self, on: bool) -> None:
        """Line tracking on or off (every process follows within ~50 ms)."""
        self.mm[P.LINES] = 1 if on else 0

    def set_throttle(self, us: int) -> None:
        P.I64.pack_into(self.mm, P.THROTTLE, max(0, int(us)))

    def request_stop(self) -> None:
        """Every process ends at its next queue operation, sleep or wait slice.

        The pause byte too: the hot paths read only that one, and a paused
        call looks at the stop byte first."""
        self.mm[P.STOP] = 1
        self.mm[P.PAUSED] = 1

    # --------------------------------------------------------- agent side
    def take_permit(self) -> bool:
        """One single-step permit, if the controller granted one."""
        with self._locked():
            n = P.I64.unpack_from(self.mm, P.PERMITS)[0]
            if n <= 0:
                return False
            P.I64.pack_into(self.mm, P.PERMITS, n - 1)
        return True

    def give_back(self) -> None:
        """The operation a permit was for would block: another process may use it."""
        with self._locked():
            P.I64.pack_into(self.mm, P.PERMITS, P.I64.unpack_from(self.mm, P.PERMITS)[0] + 1)

    def step_used(self) -> None:
        with self._locked():
            P.I64.pack_into(self.mm, P.PENDING, P.I64.unpack_from(self.mm, P.PENDING)[0] - 1)

    def set_emitted(self, actor: int, n: int) -> None:
        if 0 <= actor < P.MAX_TRACED_ACTORS:
            P.I64.pack_into(self.mm, P.EMITTED + 8 * actor, n)


class Registry:
    """Run-wide queue indexes: line ``n`` of the registry file is queue ``n``'s key."""

    def __init__(self, folder: str) -> None:
        self._path = os.path.join(folder, P.REGISTRY_NAME)
        self._tlock = threading.Lock()

    def after_fork(self) -> None:
        self._tlock = threading.Lock()

    def index(self, key: str) -> tuple[int, bool]:
        """``(index, new)`` for ``key``; ``new`` if this call registered it.

        ``index`` is -1 once the run has ``MAX_QUEUES`` queues (not traced).
        """
        with self._tlock:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                data = b""
                while chunk := os.read(fd, 65536):
                    data += chunk
                keys = data.split(b"\n")[:-1]
                k = key.encode()
                if k in keys:
                    return keys.index(k), False
                if len(keys) >= P.MAX_QUEUES:
                    return -1, False
                os.write(fd, k + b"\n")  # the offset is at the end: an append
                return len(keys), True
            finally:
                os.close(fd)  # closing drops the lock
