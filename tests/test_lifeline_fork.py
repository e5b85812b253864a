"""The controller's private pipe ends and forks made while one of them closes.

The collector closes a worker's event pipe on its own thread while the run
forks the next worker. ``Connection.close`` closes the descriptor and only
then notes that it did: a fork in between gave the child a connection that
looked open, whose descriptor number the fork's own new pipes already reused.
The child's hook closed those, and the child died at once with exit code 1,
before its first event (twice in 1,100 runs of the JoinableQueue test under
load). Real forks, real pipes; no mocks.
"""

from __future__ import annotations

import os
import threading
from multiprocessing import Pipe

from qsim.engine import lifeline
from qsim.engine.lifeline import close_controller_end, controller_only


def test_no_fork_comes_between_a_close_and_the_connection_knowing_it() -> None:
    r, w = Pipe(duplex=False)
    controller_only(r)
    seen: list[bool] = []
    real = r._close  # type: ignore[attr-defined]

    def close_then_look() -> None:
        real()  # the descriptor is closed; the connection does not know yet
        # a fork now would find the guard taken, and wait for the close to end
        seen.append(lifeline._at_fork.locked())

    r._close = close_then_look  # type: ignore[attr-defined]
    closer = threading.Thread(target=close_controller_end, args=(r,))
    closer.start()
    closer.join(10)
    assert seen == [True]
    assert r.closed and not lifeline._at_fork.locked()
    w.close()


def test_a_forked_child_closes_the_controller_ends_and_can_fork_again() -> None:
    # the guard is held across the fork; the child's copy must be let go, or
    # the child's own first fork (a lesson's main starting workers) would hang
    r, w = Pipe(duplex=False)
    controller_only(r)
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            if not r.closed:
                code = 1
            grandchild = os.fork()  # hangs if the guard stayed held
            if grandchild == 0:
                os._exit(0)
            _, status = os.waitpid(grandchild, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                code = 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "1: a controller end left open; 2: no fork"
    assert not r.closed, "the parent's end stays open"
    assert not lifeline._at_fork.locked()
    r.close()
    w.close()
