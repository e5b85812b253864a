"""``python -m qsim``: the same as the ``qsim`` command."""

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from qsim.cli import main

    raise SystemExit(main())
