"""``qsim shot``: the real window, offscreen, saved as a PNG of the size asked for."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

REPO = Path(__file__).resolve().parent.parent


def qsim(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, "-m", "qsim", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def colours(path: Path) -> tuple[int, int, int]:
    """Width, height and number of distinct colours of a PNG."""
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB32)
    w, h = image.width(), image.height()
    pixels = np.frombuffer(image.constBits(), dtype=np.uint32, count=w * h)
    return w, h, len(np.unique(pixels))


@pytest.mark.parametrize(
    ("size", "extra"),
    [("1024x640", ()), ("1280x720", ("--presentation", "--theme", "dark"))],
)
def test_shot_writes_a_png_of_the_requested_size(
    tmp_path: Path, size: str, extra: tuple[str, ...]
) -> None:
    out = tmp_path / "shot.png"
    done = qsim("shot", "backpressure", "--after", "1.5", "-o", str(out), "--size", size, *extra)
    assert done.returncode == 0, done.stderr
    w, h, n = colours(out)
    assert f"{w}x{h}" == size
    assert n > 100, f"only {n} colours: the picture looks blank"


def test_shot_of_a_bad_scenario_says_why_and_exits_2(
    tmp_path: Path, scenario_file: Callable[..., Path]
) -> None:
    bad = scenario_file('[scenario]\nid = "x"\ntitle = "X"\n\n[[queues]]\nid = 3\n', "bad.toml")
    out = tmp_path / "never.png"
    done = qsim("shot", str(bad), "--after", "0.1", "-o", str(out), timeout=30)
    assert done.returncode == 2
    assert "bad.toml" in done.stderr and "line" in done.stderr, done.stderr
    assert not out.exists()


def test_shot_refuses_a_malformed_size(tmp_path: Path) -> None:
    done = qsim("shot", "backpressure", "--size", "big", "-o", str(tmp_path / "x.png"), timeout=30)
    assert done.returncode == 2 and "--size" in done.stderr


def test_shot_of_a_program_lesson_runs_its_program(tmp_path: Path) -> None:
    out = tmp_path / "pipeline.png"
    done = qsim("shot", "pipeline", "--after", "2.5", "-o", str(out), "--size", "1280x720")
    assert done.returncode == 0, done.stderr
    w, h, n = colours(out)
    assert (w, h) == (1280, 720) and n > 100
    broken = tmp_path / "01-basic.toml"
    broken.write_text('[lesson]\nid = "x"\n', encoding="utf-8")
    done = qsim("shot", str(broken), "-o", str(tmp_path / "never.png"))
    assert done.returncode == 2
    assert done.stderr.strip() == "01-basic.toml, line 1 (lesson): missing field title"
