"""Read a scenario's files safely: plain files only, a few bytes only, UTF-8 only.

A path may name anything: a symlink to ``/dev/zero`` (reading it never ends),
a FIFO (opening it waits for a writer), a directory, a file of gigabytes. We
look before we open (``stat`` follows symlinks), open without blocking, look
again at what we opened, and read at most one byte more than allowed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from qsim.model.scenario_errors import ScenarioError, short

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
)
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in after the stat must not block
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_BINARY", 0)
)


def _not_regular(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a plain file"


def read_text(path: Path, max_bytes: int, name: str) -> str:
    """The UTF-8 text of ``path`` (a leading BOM dropped); ``ScenarioError`` if
    it is not a plain file, is larger than ``max_bytes`` or is not UTF-8 text.
    ``name`` is how messages call the file."""
    name = short(name, 200)
    try:
        st = os.stat(path)
        fd = os.open(path, _OPEN_FLAGS) if stat.S_ISREG(st.st_mode) else -1
    except (OSError, ValueError) as e:  # ValueError: a NUL in the name
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise ScenarioError(f"{name}: cannot read the file: {why}") from None
    if fd < 0:
        raise ScenarioError(
            f"{name}: is {_not_regular(st.st_mode)}, not a file: qsim reads only plain files"
        )
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ScenarioError(f"{name}: is {_not_regular(st.st_mode)}, not a file")
        if st.st_size > max_bytes:
            raise ScenarioError(_too_big(name, st.st_size, max_bytes))
        try:
            data = f.read(max_bytes + 1)
        except OSError as e:
            raise ScenarioError(f"{name}: cannot read the file: {e.strerror or e}") from None
    if len(data) > max_bytes:  # it grew since we looked
        raise ScenarioError(_too_big(name, len(data), max_bytes))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ScenarioError(
            f"{name}: is not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})"
        ) from None
    return text.removeprefix("\ufeff")


def _too_big(name: str, size: int, max_bytes: int) -> str:
    return f"{name}: is {size:,} bytes; a scenario's files may have at most {max_bytes:,}"
