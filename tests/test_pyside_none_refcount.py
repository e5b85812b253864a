"""PySide6 6.12.0 on Python 3.11 drops a reference to ``None`` on every call of
a method that returns nothing, and the interpreter aborts after a few thousand
calls (``Fatal Python error: none_dealloc``; ../shared/FACTS.md). The pin in
pyproject.toml keeps that version out; this test notices if it comes back.
Run in a subprocess so that the crash fails this test instead of killing pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys

CALLS = 100_000

CODE = f"""
import sys
from PySide6.QtCore import QObject
obj = QObject()
before = sys.getrefcount(None)
for n in range({CALLS}):
    obj.setObjectName("x")
print("ok", sys.getrefcount(None) - before)
"""


def test_many_calls_returning_nothing_do_not_crash() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, "-c", CODE],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert out.returncode == 0, f"exit {out.returncode}: {out.stderr[-2000:]}"
    assert out.stdout.startswith("ok")
