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

    from qsim.cli import main

    sys.exit(main())
