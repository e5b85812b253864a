"""Time from launch to the first painted window: the bundle vs. from source.

Starts the real app (``qsim --lesson basic --quit-after 1``) several times
with ``QSIM_STARTUP_TIME=1``, which makes the window print one line when its
diagram is first painted, and takes the wall time from ``Popen`` to that
line (so the PyInstaller bootloader and every import count). Prints the
median and the range for each, as JSON.

Usage: ``python packaging/measure_startup.py [--runs 5] [--platform xcb|offscreen]``.
``xcb`` needs a display (run it under ``xvfb-run -a``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "qsim" / ("qsim.exe" if sys.platform == "win32" else "qsim")


def first_paint(cmd: list[str], platform: str) -> float:
    """Seconds from launch until the app reports its first paint."""
    env = {**os.environ, "QSIM_STARTUP_TIME": "1", "QT_QPA_PLATFORM": platform}
    t0 = time.perf_counter()
    p = subprocess.Popen(
        [*cmd, "--lesson", "basic", "--quit-after", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
        cwd=ROOT,
    )
    assert p.stdout is not None
    seconds = float("nan")
    for line in p.stdout:
        if "first paint" in line:
            seconds = time.perf_counter() - t0
            break
    p.stdout.close()
    try:
        p.wait(30)
    except subprocess.TimeoutExpired:  # the app did not quit: still a valid time
        print(f"warning: {cmd[-1]} did not quit within 30 s; killed", file=sys.stderr)
        p.kill()
        p.wait()
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    args = ap.parse_args()
    commands = {"source": [sys.executable, "-m", "qsim"]}
    if BUNDLE.is_file():
        commands["bundle"] = [str(BUNDLE)]
    out: dict[str, object] = {"platform": args.platform, "runs": args.runs}
    for name, cmd in commands.items():
        first_paint(cmd, args.platform)  # warm the disk cache: measure the app, not the disk
        times = [first_paint(cmd, args.platform) for _ in range(args.runs)]
        out[name] = {
            "median_s": round(statistics.median(times), 3),
            "min_s": round(min(times), 3),
            "max_s": round(max(times), 3),
        }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
