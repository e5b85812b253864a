"""``python -m qsim.agent SCRIPT [ARGS...]`` (the controller starts this)."""

import atexit
import sys


class _AtExit:
    """Reports the main process's end after everything else at exit has run."""

    code = 0

    def __call__(self) -> None:
        from qsim.agent import runtime

        if runtime.AGENT is not None:
            runtime.AGENT.finish(self.code)
            runtime.AGENT.leave_no_folder()


_at_exit = _AtExit()
# registered before multiprocessing is imported: atexit runs last-in first-out,
# so this runs after multiprocessing has joined the program's children
atexit.register(_at_exit)

if __name__ == "__main__":
    from qsim.agent.bootstrap import main

    sys.exit(main(sys.argv[1:], _at_exit))
