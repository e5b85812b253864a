"""The real app on a real (virtual) X server: start, play, quit by itself, leave nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.xvfb,
    pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed"),
]
REPO = Path(__file__).resolve().parent.parent


def processes_marked(mark: str) -> dict[int, str]:
    """Live processes whose environment holds ``QSIM_TEST_MARK=mark``."""
    found = {}
    needle = f"QSIM_TEST_MARK={mark}".encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as f:
                if needle not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                if f.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    continue
        except OSError:  # gone while we looked, or not ours to read
            continue
        found[int(entry.name)] = cmd
    return found


def test_the_real_app_plays_and_quits_by_itself(tmp_path: Path) -> None:
    mark = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(
        QSIM_TEST_MARK=mark,
        QSIM_STARTUP_TIME="1",
        XDG_CONFIG_HOME=str(tmp_path / "config"),  # never the user's settings
    )
    xvfb = ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24"]
    done = subprocess.run(
        [*xvfb, sys.executable, "-m", "qsim", "--lesson", "basic", "--quit-after", "3"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "first paint" in done.stdout, done.stdout + done.stderr
    left = {
        pid: cmd
        for pid, cmd in processes_marked(mark).items()
        if "python" in cmd and "resource_tracker" not in cmd
    }
    assert left == {}, f"processes left behind: {left}"
    settings = list((tmp_path / "config").rglob("*.conf"))
    assert settings, "the window's settings were not saved"
    assert "lesson=basic" in settings[0].read_text()
