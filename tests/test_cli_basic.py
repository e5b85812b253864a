"""The ``qsim`` command line, run as a user would: real subprocesses, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def qsim(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, "-m", "qsim", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_version() -> None:
    from qsim import __version__

    out = qsim("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"qsim {__version__}"


def test_installed_command_runs() -> None:
    """``pip install -e .`` put a ``qsim`` command next to this Python."""
    script = Path(sys.executable).parent / ("qsim.exe" if os.name == "nt" else "qsim")
    assert script.exists(), f"no {script}: run 'make test' (it installs qsim into .venv)"
    out = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("qsim ")


def test_list_shows_every_builtin_with_its_title() -> None:
    from qsim.resources import list_builtin

    out = qsim("list")
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    lessons = list_builtin()
    assert lessons, "no built-in lessons found"
    assert len(lines) == len(lessons)
    for line, sc in zip(lines, lessons, strict=True):
        assert line.split()[0] == sc.id
        assert sc.title in line


def test_validate_good_file(scenario_text: Callable[[str], str], tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(scenario_text("small-basic"), encoding="utf-8")
    out = qsim("validate", str(path))
    assert out.returncode == 0, out.stderr
    assert "ok" in out.stdout


def test_validate_broken_file_names_file_and_line(
    scenario_text: Callable[[str], str], tmp_path: Path
) -> None:
    text = scenario_text("small-basic")
    lines = text.splitlines()
    n = next(i for i, line in enumerate(lines) if line.startswith('kind = "Queue"'))
    lines[n] = 'kind = "Tube"'
    path = tmp_path / "broken_lesson.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = qsim("validate", str(path))
    assert out.returncode == 2
    assert "broken_lesson.toml" in out.stderr
    assert f"line {n + 1}" in out.stderr
    assert "Tube" in out.stderr


def test_validate_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "garbled.toml"
    path.write_text('[scenario\nid = "x"\n', encoding="utf-8")
    out = qsim("validate", str(path))
    assert out.returncode == 2
    assert "garbled.toml" in out.stderr
    assert "line 1" in out.stderr


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_headless_run_of_a_scenario_reports_closed_accounting(method: str) -> None:
    from handy import handy_path

    path = str(handy_path("small-basic"))
    out = qsim("run", path, "--headless", "--json", "--speed", "5", "--start-method", method)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    acct = report["accounting"]
    assert report["scenario"] == "small-basic"
    assert report["start_method"] == method
    assert report["finished"] is True
    assert acct["closes"] is True
    assert acct["produced"] == 5
    assert acct["consumed"] == 5
    assert acct["lost"] == 0
    assert report["events_emitted"] == report["events_received"]
    assert set(report["exit_codes"].values()) == {0}


def test_run_unknown_scenario_says_which_exist() -> None:
    out = qsim("run", "no-such-lesson", "--headless")
    assert out.returncode == 2
    assert "no-such-lesson" in out.stderr
    assert "basic" in out.stderr


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_headless_run_of_a_program_lesson_traces_its_program(method: str) -> None:
    out = qsim("run", "basic", "--headless", "--json", "--speed", "10", "--start-method", method)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["lesson"] == report["scenario"] == "basic"
    assert report["kind"] == "program"
    assert report["program"].endswith("01-basic.py")
    assert report["args"][-2:] == ["--start-method", method]
    assert report["finished"] is True and report["accounting"]["closes"] is True
    assert report["queues"]["q"]["puts"] == report["queues"]["q"]["gets"] == 6  # 5 + DONE
    assert report["exit_codes"] == {"main": 0, "producer": 0, "consumer": 0}
    assert "consumer got 'DONE'" in report["stdout"]


def test_a_program_lesson_takes_the_programs_own_arguments_after_dashes() -> None:
    out = qsim("run", "basic", "--headless", "--json", "--speed", "10", "--", "--items", "2")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["queues"]["q"]["puts"] == 3
    assert report["stdout"].count("consumer got") == 3


def test_a_program_lesson_is_recorded_and_refuses_scenario_only_options(tmp_path: Path) -> None:
    rec = tmp_path / "basic.qrec"
    out = qsim("run", "basic", "--headless", "--json", "--speed", "10", "--record", str(rec))
    assert out.returncode == 0, out.stderr
    live = json.loads(out.stdout)
    out = qsim("replay", str(rec), "--headless", "--json")
    assert out.returncode == 0, out.stderr
    replayed = json.loads(out.stdout)
    assert replayed["queues"]["q"]["puts"] == live["queues"]["q"]["puts"] == 6
    out = qsim("run", "basic", "--headless", "--seed", "3")
    assert out.returncode == 2
    assert out.stderr.strip().startswith("basic is a program lesson: --seed applies to scenarios")
    out = qsim("run", "backpressure", "--headless", "--", "--items", "2")
    assert out.returncode == 2
    assert "backpressure is a scenario: only program lessons take arguments" in out.stderr


def test_list_marks_the_program_lessons() -> None:
    from qsim.resources import program_ids

    lines = qsim("list").stdout.splitlines()
    marked = [line.split()[0] for line in lines if line.endswith("[program]")]
    assert marked == program_ids()


def test_bench_lessons_refuses_a_lane_length_out_of_range() -> None:
    out = qsim("bench", "lessons", "--seconds", "0.1")
    assert out.returncode == 2
    assert "--seconds must be from 0.5 to 30" in out.stderr
    assert not out.stdout
