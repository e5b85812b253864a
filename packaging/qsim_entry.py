"""Entry point of the packaged app (PyInstaller runs this as ``__main__``).

``freeze_support()`` must come first, before any other import: under
``spawn`` every worker is this same binary started again with
multiprocessing's arguments, and ``freeze_support()`` turns it into the
worker right here instead of opening a second window.
"""

import multiprocessing

multiprocessing.freeze_support()

if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--qsim-agent"]:
        # ``qsim trace``: run the student's program with the app's own Python
        # (qsim.engine.trace.agent_command starts the app this way when frozen)
        from qsim.agent.bootstrap import main as agent_main

        sys.exit(agent_main(sys.argv[2:], None))

    from qsim.cli import main

    sys.exit(main())
