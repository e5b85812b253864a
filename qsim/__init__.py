"""qsim: watch Python multiprocessing queues at work (real processes, real queues)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def _version() -> str:
    try:
        return version("qsim")
    except PackageNotFoundError:  # a source checkout that was never installed
        return "0.0.0+src"


__version__ = _version()
