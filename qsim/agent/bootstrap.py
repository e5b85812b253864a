"""``python -m qsim.agent SCRIPT [ARGS...]``: run a program as ``python SCRIPT``
would, with every process of it traced.

The script runs as a real module named ``__main__`` (also registered as
``__mp_main__``, so that spawned children can unpickle its functions), with
``__file__`` set, ``sys.argv = [SCRIPT, *ARGS]`` and the script's folder first
on ``sys.path``. Its exit code, and an uncaught exception's traceback, are
what Python itself would give (the traceback starts at the script's frames).
"""

from __future__ import annotations

import os
import sys
import traceback
import types
from typing import Any

from qsim.agent import runtime
from qsim.model.events import EventKind as K


def install(cfg: dict[str, str], user_dir: str) -> runtime.Agent:
    """Create this process's agent and patch multiprocessing (once per process)."""
    if runtime.AGENT is not None:
        return runtime.AGENT
    from qsim.agent import patch_conn, patch_process, patch_queues

    A = runtime.AGENT = runtime.Agent(cfg, user_dir)
    patch_queues.install(A)
    patch_conn.install(A)
    patch_process.install(A)
    return A


def run_script(path: str, args: list[str]) -> int:
    """Run ``path`` as ``__main__``; return the exit code Python would give."""
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__builtins__ = __builtins__  # type: ignore[attr-defined]
    main.__spec__ = None  # spawn then finds the program by its path (init_main_from_path)
    main.__loader__ = None
    sys.modules["__main__"] = sys.modules["__mp_main__"] = main
    sys.argv = [path, *args]
    sys.path[0] = os.path.dirname(path)
    try:
        with open(path, "rb") as f:
            source = f.read()
        code = compile(source, path, "exec", dont_inherit=True)
        exec(code, main.__dict__)
    except SystemExit as e:
        return _exit_code(e)
    except BaseException as e:
        if runtime.AGENT is not None:
            runtime.AGENT.emit(K.ERROR, 0, -1, f"{type(e).__name__}: {e}")
        _print_exception(e, path)
        return 130 if isinstance(e, KeyboardInterrupt) else 1
    return 0


def _exit_code(e: SystemExit) -> int:
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code
    print(e.code, file=sys.stderr)
    return 1


def _print_exception(e: BaseException, path: str) -> None:
    """As Python prints it: the traceback from the script's first frame on."""
    tb = e.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != path:
        tb = tb.tb_next
    sys.stderr.flush()
    traceback.print_exception(type(e), e, tb if tb is not None else e.__traceback__)
    sys.stderr.flush()


def main(argv: list[str], at_exit: Any) -> int:
    """The main process of a traced program (``at_exit`` reports its end)."""
    from qsim.agent.patch_process import config_from_env

    if not argv:
        print("usage: python -m qsim.agent SCRIPT [ARGS...]", file=sys.stderr)
        return 2
    path = os.path.abspath(argv[0])
    cfg = config_from_env()
    if cfg is None:
        print("qsim.agent: no QSIM_TRACE in the environment: use 'qsim trace'", file=sys.stderr)
        return 2
    A = install(cfg, os.path.dirname(path))
    A.is_main = True
    A.connect("main", -1)
    A.install_sigterm()
    code = run_script(path, argv[1:])
    if at_exit is not None:  # ``python -m qsim.agent``: its atexit hook reports the end
        at_exit.code = code
        return code
    # the packaged app imported multiprocessing before us: end its children
    # now (what its own exit hook would do), then report the end
    import multiprocessing.util

    multiprocessing.util._exit_function()  # type: ignore[attr-defined]
    A.finish(code)
    A.leave_no_folder()
    return code
