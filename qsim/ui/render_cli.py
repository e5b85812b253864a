"""``qsim render LESSON_OR_RECORDING -o lecture.mp4``: a video of a run, offscreen.

A recording (``.qrec``) is rendered as it is; a lesson (a built-in id or a
scenario file) is first run headless with real processes and recorded to a
temporary file, then rendered; a Python program (``.py``, ``--args``) is
traced headless and recorded likewise. Progress is one line on the terminal.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

RECORDING_SUFFIX = ".qrec"


def is_recording(ref: str) -> bool:
    """``ref`` names a recording file (by its name or its first bytes)."""
    from qsim.record.format import MAGIC

    p = Path(ref)
    if not p.is_file():
        return False
    if p.suffix.lower() == RECORDING_SUFFIX:
        return True
    try:
        with open(p, "rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def add_render_parser(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser(
        "render",
        help="render a lesson or a recording as a video (MP4 or GIF), offscreen",
        description="Frames are drawn by the real window at exactly the frame rate asked "
        "for, from the recording (a lesson is run and recorded first).",
    )
    r.add_argument("source", metavar="LESSON_OR_RECORDING")
    r.add_argument("-o", "--output", required=True, help="the .mp4 or .gif to write")
    r.add_argument("--size", default="1920x1080", help="frame size (default 1920x1080)")
    r.add_argument("--fps", type=int, default=30, help="frames per second (default 30)")
    r.add_argument("--presentation", action="store_true", help="presentation mode's look")
    r.add_argument("--theme", choices=["light", "dark"], default="light")
    r.add_argument(
        "--from", dest="t_from", type=float, default=0.0, metavar="T", help="start (s of the run)"
    )
    r.add_argument("--to", dest="t_to", type=float, metavar="T", help="end (s of the run)")
    r.add_argument(
        "--start-method", choices=["auto", "fork", "spawn", "forkserver"], help="for a lesson"
    )
    r.add_argument(
        "--args", default="", help="a Python program's arguments, as on a command line ('fork 10')"
    )


def _progress(done: int, total: int) -> None:
    print(f"\rrendering frame {done:,}/{total:,}", end="", file=sys.stderr, flush=True)


def render_main(args: argparse.Namespace) -> int:
    """The ``render`` verb; exit code 0, or 2 with one line on stderr."""
    from qsim.ui.shot import parse_size
    from qsim.ui.video_writers import VideoError, check_output

    try:
        size = parse_size(args.size)
        check_output(args.output)
    except (ValueError, VideoError) as e:
        print(f"qsim render: {e}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="qsim-render-") as tmp:
        recording = args.source
        if not is_recording(recording):
            record = _record_program if recording.endswith(".py") else _record_lesson
            made = record(args, Path(tmp) / "run.qrec")
            if made is None:
                return 2
            recording = str(made)
        return _render(args, recording, size)


def _record_program(args: argparse.Namespace, path: Path) -> Path | None:
    """A Python program (``.py``), traced headless and recorded."""
    import shlex

    from qsim.engine.trace_check import TraceError
    from qsim.engine.trace_headless import trace_headless

    try:
        argv = shlex.split(args.args)
    except ValueError as e:
        print(f"qsim render: --args: {e}", file=sys.stderr)
        return None
    duration = None if args.t_to is None else args.t_to + 1.0
    print(f"running {args.source} traced to record it...", file=sys.stderr)
    try:
        trace_headless(args.source, argv, duration=duration, record=path)
    except (TraceError, OSError) as e:
        print(f"qsim render: {e}", file=sys.stderr)
        return None
    return path


def _record_lesson(args: argparse.Namespace, path: Path) -> Path | None:
    from qsim.engine.headless import run_headless
    from qsim.model.scenario_io import ScenarioError
    from qsim.resources import is_program, load

    if is_program(args.source):
        return _record_program_lesson(args, path)
    try:
        sc = load(args.source)
    except ScenarioError as e:
        print(e, file=sys.stderr)
        return None
    duration = None if args.t_to is None else min(sc.run.duration, args.t_to + 1.0)
    print(f"running {sc.id} with real processes to record it...", file=sys.stderr)
    try:
        run_headless(sc, duration=duration, start_method=args.start_method, record=path)
    except (ValueError, OSError) as e:
        print(f"qsim render: {e}", file=sys.stderr)
        return None
    return path


def _record_program_lesson(args: argparse.Namespace, path: Path) -> Path | None:
    """A program lesson: its program traced with the knobs' defaults, recorded."""
    import shlex

    from qsim.engine.trace_check import TraceError
    from qsim.engine.trace_headless import trace_headless
    from qsim.lesson_cli import lesson_argv
    from qsim.model.scenario_io import ScenarioError
    from qsim.resources import load_program

    try:
        lesson = load_program(args.source)
        extra = shlex.split(args.args)
    except (ScenarioError, ValueError) as e:
        print(f"qsim render: {e}", file=sys.stderr)
        return None
    duration = lesson.duration if args.t_to is None else min(lesson.duration, args.t_to + 1.0)
    print(f"running {lesson.id}'s program traced to record it...", file=sys.stderr)
    try:
        trace_headless(
            str(lesson.program),
            lesson_argv(lesson, args.start_method, extra),
            duration=duration,
            hang_after=lesson.hang_after,
            internals=lesson.internals,
            record=path,
        )
    except (TraceError, OSError) as e:
        print(f"qsim render: {e}", file=sys.stderr)
        return None
    return path


def _render(args: argparse.Namespace, recording: str, size: tuple[int, int]) -> int:
    # offscreen even with a display: a window manager would clamp the size
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qsim.record.format import RecordingError
    from qsim.ui.app import make_app
    from qsim.ui.render import RenderError, RenderSpec, render_video
    from qsim.ui.video_writers import VideoError

    make_app()
    spec = RenderSpec(
        size=size,
        fps=args.fps,
        presentation=args.presentation,
        theme=args.theme,
        t_from=args.t_from,
        t_to=args.t_to,
    )
    tty = sys.stderr.isatty()
    try:
        info = render_video(recording, args.output, spec, _progress if tty else None)
    except (RecordingError, RenderError, VideoError) as e:
        if tty:
            print(file=sys.stderr)
        print(f"qsim render: {e}", file=sys.stderr)
        return 2
    if tty:
        print(file=sys.stderr)
    w, h = info["size"]
    print(
        f"{info['path']}: {info['frames']:,} frames of {w}x{h} at {info['fps']} fps "
        f"({info['seconds']:.1f} s of the run), rendered at {info['render_fps']:.1f} frames/s"
    )
    return 0
