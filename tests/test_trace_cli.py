"""``qsim trace`` and ``qsim bench trace`` from the command line, and the
programs it refuses with a clear message before anything starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from procwait import wait_gone
from tracing import PROGRAMS

from qsim.trace_cli import split_args


def _qsim(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qsim", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_headless_json_has_the_shape_of_qsim_run() -> None:
    out = _qsim("trace", str(PROGRAMS / "one_to_one.py"), "fork", "5", "--headless", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    for key in ("actors", "queues", "accounting", "events_emitted", "events_received", "hung"):
        assert key in report
    assert report["events_emitted"] == report["events_received"]
    assert report["accounting"]["closes"]
    assert report["queues"]["q"]["puts"] == 6
    assert report["args"] == ["fork", "5"]
    # the program's own output is in the report, not mixed into ours
    assert json.loads(report["stdout"])["sentinel"] == "DONE"


def test_options_may_follow_the_programs_arguments() -> None:
    assert split_args(["p.py", "fork", "5", "--headless", "--json"]) == (
        ["p.py", "--headless", "--json"],
        ["fork", "5"],
    )
    assert split_args(["--duration", "5", "p.py", "-v", "--", "--json"]) == (
        ["--duration", "5", "p.py"],
        ["-v", "--json"],
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "is not a Python program (it is a binary file)"),
        (b"#!/bin/sh\necho hello\n", "is not a Python program (it is a script for /bin/sh)"),
        (b"def broken(:\n    pass\n", "is not valid Python: invalid syntax at line 1"),
        (b"\xff\xfe not text", "is not a Python program (not readable as text"),
    ],
)
def test_not_python_gets_a_clear_message(content: bytes, message: str, tmp_path: Path) -> None:
    prog = tmp_path / "prog.py"
    prog.write_bytes(content)
    out = _qsim("trace", str(prog), "--headless")
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.startswith(f"qsim trace: prog.py {message}")
    assert len(out.stderr.strip().splitlines()) == 1


def test_a_missing_program_gets_a_clear_message(tmp_path: Path) -> None:
    out = _qsim("trace", str(tmp_path / "nope.py"), "--headless")
    assert out.returncode == 2
    assert "nope.py: no such file" in out.stderr


def test_bench_trace_prints_both_rates_and_their_ratio() -> None:
    out = _qsim("bench", "trace", "--json", "--items", "3000")
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["untraced_msgs_per_s"] > 0
    assert r["traced_msgs_per_s"] > 0
    assert r["ratio"] == round(r["traced_msgs_per_s"] / r["untraced_msgs_per_s"], 3)
    # and with line tracking on (what the open code view asks for)
    assert r["line_tracking"] in ("sys.settrace", "sys.monitoring")
    assert r["ratio_lines"] == round(r["traced_lines_msgs_per_s"] / r["untraced_msgs_per_s"], 3)
    # a put and a get per item, in each of the 3 traced rounds
    assert r["events_emitted"] == r["events_received"] > 3 * 2 * 3000
    assert r["accounting_closes"]


def test_without_headless_the_program_plays_in_the_window(tmp_path: Path) -> None:
    """``qsim trace prog.py`` opens the window playing it; closing it ends the program."""
    pidfile = tmp_path / "pids"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    prog = str(PROGRAMS / "forever.py")
    out = subprocess.run(
        [sys.executable, "-m", "qsim", "trace", prog, "fork", str(pidfile), "--quit-after", "4"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert pidfile.exists(), "the program never ran"
    assert wait_gone(json.loads(pidfile.read_text()), 5.0) == set()


def test_without_headless_a_bad_program_is_refused_before_any_window(tmp_path: Path) -> None:
    prog = tmp_path / "notes.py"
    prog.write_text("just some words\n")
    out = _qsim("trace", str(prog))
    assert out.returncode == 2
    assert (
        out.stderr.strip() == "qsim trace: notes.py is not valid Python: invalid syntax at line 1"
    )
