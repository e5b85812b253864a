"""Following the program's processes, and its ``time.sleep``.

* fork: the ``Agent``'s ``os.register_at_fork`` hook gives the child a fresh
  state; ``BaseProcess._bootstrap`` (every start method runs it in the child)
  connects it as a new actor, named as the program named it.
* spawn and forkserver: ``spawn.get_preparation_data`` gets a ``Stowaway``,
  an object whose unpickling in the child installs the agent *before* the
  child imports ``__mp_main__`` and unpickles the Process with its queue
  arguments (coverage.py's ``multiproc.py`` does the same).
* ``Process.join`` reports JOIN_WAIT, and waits in slices (stop reaches it).
* ``time.sleep`` is scaled by the run's speed and frozen while paused.
"""

from __future__ import annotations

import json
import os
import re
import time
from multiprocessing import process, spawn
from typing import Any

from qsim.agent import protocol as P
from qsim.agent import where
from qsim.agent.ending import EXIT_ORPHANED
from qsim.agent.patch_queues import patch
from qsim.agent.runtime import SLICE_S, Agent
from qsim.model.events import EventKind as K

_DEFAULT_NAME = re.compile(r"\w+-\d+(:\d+)*")
_sleep = time.sleep


class Stowaway:
    """Travels in spawn's preparation data; unpickled, it installs the agent."""

    def __init__(self, cfg: dict[str, str], user_dir: str) -> None:
        self.state = {"cfg": cfg, "user_dir": user_dir}

    def __getstate__(self) -> dict[str, Any]:
        return self.state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.state = state
        from qsim.agent.bootstrap import install

        install(state["cfg"], state["user_dir"])


def process_name(p: Any) -> str:
    """``Process(name=...)`` if the program gave one, else the target's name
    (known until ``start()`` drops the target: then as ``start()`` saw it)."""
    if "_qsim_name" in p.__dict__:
        return str(p._qsim_name)
    name = str(p.name)
    if _DEFAULT_NAME.fullmatch(name) and name.startswith(type(p).__name__ + "-"):
        target = getattr(p, "_target", None)
        return str(getattr(target, "__name__", name)) if target is not None else name
    return name


def install(A: Agent) -> None:
    base = process.BaseProcess
    orig_start, orig_join = base.start, base.join
    orig_bootstrap = base._bootstrap  # type: ignore[attr-defined]
    where.boundary.add(orig_bootstrap.__code__)

    def start(self: Any) -> None:
        self._qsim_name = process_name(self)
        self._qsim_parent = A.actor
        self._qsim_internal = where.maker(2) == "internal"
        A.flush()  # the child's events must not overtake what led to it
        orig_start(self)

    def _bootstrap(self: Any, *args: Any, **kwargs: Any) -> int:
        A.connect(
            process_name(self),
            getattr(self, "_qsim_parent", A.parent),
            getattr(self, "_qsim_internal", False),
        )
        A.install_sigterm()
        run = self.run

        def reported_run() -> None:
            try:
                run()
            except Exception as e:
                A.emit(K.ERROR, 0, -1, f"{type(e).__name__}: {e}")
                raise

        self.run = reported_run
        code = orig_bootstrap(self, *args, **kwargs)
        A.finish(code)
        return int(code)

    def ended(p: Any) -> None:
        if p.exitcode == EXIT_ORPHANED:  # it saw the controller go
            A.child_orphaned = True

    def join(self: Any, timeout: float | None = None) -> None:
        if self._popen is None or self is process.current_process():
            return orig_join(self, timeout)  # raises as multiprocessing would
        orig_join(self, 0)
        if self.exitcode is not None or timeout == 0:
            ended(self)
            return None
        what = f"{process_name(self)}.join()"
        A.where(2)
        A.emit(K.JOIN_WAIT, 0, -1, what)
        A.flush()
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        while self.exitcode is None:
            A.check_stop()
            wait = SLICE_S
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    break
            orig_join(self, wait)
        ended(self)
        A.emit(K.JOIN_DONE, 0, -1, what)
        return None

    patch(base, "start", start)
    patch(base, "_bootstrap", _bootstrap)
    patch(base, "join", join)

    orig_prep = spawn.get_preparation_data

    def get_preparation_data(name: str) -> dict[str, Any]:
        d = orig_prep(name)
        d["qsim_stowaway"] = Stowaway(A.cfg, A.user_dir)
        return d

    patch(spawn, "get_preparation_data", get_preparation_data)

    def sleep(seconds: float) -> None:
        if type(seconds) not in (int, float) or not seconds > 0:
            return _sleep(seconds)  # 0, a bad value: the real sleep's answer
        A.sleep(seconds)
        return None

    patch(time, "sleep", sleep)


def config_from_env() -> dict[str, str] | None:
    raw = os.environ.get(P.ENV)
    return json.loads(raw) if raw else None
