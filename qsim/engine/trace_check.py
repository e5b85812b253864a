"""Is this a Python program qsim can trace? Asked before anything starts.

Compiling the source runs none of it, so a file that is not Python (a
binary, a shell script, a text) or has a syntax error gets a one-line message
naming the file and the line, and the window keeps what it had.
"""

from __future__ import annotations

import io
import os
import tokenize

MAX_SOURCE = 16 << 20  # bytes: a bigger "program" is not one a student wrote


class TraceError(Exception):
    """The program cannot be traced; the message says why, in one line."""


def check_program(path: str) -> None:
    """Raise ``TraceError`` unless ``path`` is a readable Python program that compiles."""
    name = os.path.basename(path)
    if not os.path.exists(path):
        raise TraceError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise TraceError(f"{path}: not a file")
    size = os.path.getsize(path)
    if size > MAX_SOURCE:
        raise TraceError(f"{name}: {size:,} bytes is too big for a Python program")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise TraceError(f"{name}: cannot read it ({e.strerror})") from None
    if b"\0" in data[:65536]:
        raise TraceError(f"{name} is not a Python program (it is a binary file)")
    first = data.split(b"\n", 1)[0]
    if first.startswith(b"#!") and b"python" not in first:
        shell = first[2:].decode("utf-8", "replace").strip()
        raise TraceError(f"{name} is not a Python program (it is a script for {shell})")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        source = data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError) as e:
        raise TraceError(f"{name} is not a Python program (not readable as text: {e})") from None
    try:
        compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as e:
        where = f" at line {e.lineno}" if e.lineno else ""
        raise TraceError(f"{name} is not valid Python: {e.msg}{where}") from None
    except ValueError as e:  # e.g. source code string cannot contain null bytes
        raise TraceError(f"{name} is not a Python program ({e})") from None
