"""The ``qsim`` command: the GUI by default, plus headless verbs.

Qt is imported only inside the GUI verbs: under ``spawn`` every worker
re-imports the main module, and Qt at its top level would cost each worker
seconds (../shared/FACTS.md).
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
from collections.abc import Sequence
from typing import Any


def _parser() -> argparse.ArgumentParser:
    from qsim import __version__

    p = argparse.ArgumentParser(
        prog="qsim",
        description="See Python multiprocessing queues at work: real processes, real queues.",
    )
    p.add_argument("--version", action="version", version=f"qsim {__version__}")
    p.add_argument(
        "--self-test", action="store_true", help="run every lesson briefly; exit 0 if all pass"
    )
    p.add_argument("--lesson", help="open this lesson (id or file) at start")
    p.add_argument(
        "--quit-after",
        type=float,
        metavar="SECONDS",
        help="play the lesson and quit after this many seconds (a smoke test of the window)",
    )
    sub = p.add_subparsers(dest="verb")

    r = sub.add_parser(
        "run",
        help="run a lesson or a scenario",
        epilog="A program lesson takes the program's own arguments after '--', "
        "e.g. qsim run basic --headless -- --items 3",
    )
    r.add_argument("scenario", help="a built-in id (see 'qsim list') or a .toml file")
    r.add_argument("--headless", action="store_true", help="no window (the only mode for now)")
    r.add_argument("--json", action="store_true", help="print the report as JSON")
    r.add_argument("--duration", type=float, help="stop after this many seconds")
    r.add_argument("--start-method", choices=["auto", "fork", "spawn", "forkserver"])
    r.add_argument("--speed", type=float, help="time scale 0.1-10 (default: the scenario's)")
    r.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    r.add_argument("--record", metavar="FILE", help="also write the run's recording (.qrec)")

    rp = sub.add_parser("replay", help="replay a recording (.qrec) in the window")
    rp.add_argument("recording")
    rp.add_argument(
        "--headless", action="store_true", help="no window: print the recorded run's report"
    )
    rp.add_argument("--json", action="store_true", help="print the run's report as JSON")
    rp.add_argument(
        "--quit-after",
        type=float,
        metavar="SECONDS",
        help="play it and quit after this many seconds (a smoke test of the window)",
    )

    ex = sub.add_parser("export", help="a recording as Chrome/Perfetto trace JSON")
    ex.add_argument("recording")
    ex.add_argument("-o", "--output", required=True, help="the .json file to write")

    sub.add_parser("list", help="list the built-in lessons")
    v = sub.add_parser("validate", help="check a scenario file")
    v.add_argument("file")

    b = sub.add_parser("bench", help="measure speed")
    b.add_argument("what", choices=["engine", "lessons", "gui", "replay", "trace"])
    b.add_argument("--json", action="store_true")
    b.add_argument("--items", type=int, default=200_000)
    b.add_argument("--rounds", type=int, default=0, help="alternating rounds (default: 5/3)")
    b.add_argument(
        "--seconds",
        type=float,
        default=1.0,
        help="lessons: seconds each lane puts, as a plain program and then watched",
    )
    b.add_argument("--start-method", choices=["fork", "spawn", "forkserver"], default="fork")
    b.add_argument("--panels", choices=["none", "all"], default="none")
    b.add_argument(
        "--events", type=int, default=10_000_000, help="replay: events in the recording"
    )
    b.add_argument("--recording", help="replay: measure this .qrec instead of a made-up one")
    b.add_argument("--python", help="trace: measure this Python interpreter (e.g. a 3.12)")
    b.add_argument("--program", default="", help="gui: trace this Python program instead")
    b.add_argument("--args", default="", help="gui: the program's arguments ('fork 100000')")

    sub.add_parser(
        "trace",
        help="run your own Python program and watch its processes and queues",
        add_help=False,  # its own parser: options may follow the program's arguments
    )

    from qsim.ui.render_cli import add_render_parser

    add_render_parser(sub)

    s = sub.add_parser("shot", help="run the real window offscreen and save a screenshot")
    s.add_argument("scenario", help="a lesson id, a scenario file, or a Python program (.py)")
    s.add_argument(
        "--args", default="", help="a program's arguments, as on a command line ('fork 10')"
    )
    s.add_argument("--after", type=float, default=2.0, help="seconds to run before the shot")
    s.add_argument("-o", "--output", default="qsim.png")
    s.add_argument("--size", default="1280x720")
    s.add_argument("--presentation", action="store_true")
    s.add_argument("--theme", choices=["light", "dark"], default="light")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["trace"]:
        from qsim.trace_cli import trace_main

        return trace_main(argv[1:])
    program_args: list[str] = []
    if argv[:1] == ["run"] and "--" in argv:  # the rest is a program lesson's
        cut = argv.index("--")
        argv, program_args = argv[:cut], argv[cut + 1 :]
    args = _parser().parse_args(argv)
    args.program_args = program_args
    if args.self_test:
        from qsim.selftest import self_test

        return self_test()
    if args.verb is None:
        from qsim.ui.app import run_gui

        # Ctrl+C in the terminal ends the app at once (Qt's loop would leave
        # Python's KeyboardInterrupt pending until the next event); its workers
        # leave when they see it gone
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        return run_gui(lesson=args.lesson, quit_after=args.quit_after)
    if args.verb == "list":
        return _list()
    if args.verb == "validate":
        return _validate(args.file)
    if args.verb == "run":
        return _run(args)
    if args.verb == "bench":
        return _bench(args)
    if args.verb == "replay" and not (args.headless or args.json):
        from qsim.ui.app import run_gui

        signal.signal(signal.SIGINT, signal.SIG_DFL)
        return run_gui(recording=args.recording, quit_after=args.quit_after)
    if args.verb in ("replay", "export"):
        from qsim.record.cli import export_main, replay_main

        return replay_main(args) if args.verb == "replay" else export_main(args)
    if args.verb == "render":
        from qsim.ui.render_cli import render_main

        return render_main(args)
    if args.verb == "shot":
        from qsim.ui.shot import shot_main

        return shot_main(args)
    return 2


def _list() -> int:
    """Every built-in lesson in order; a program lesson says so after its title."""
    from qsim.model.program_lesson import load_program_lesson
    from qsim.model.scenario_io import ScenarioError, load_scenario
    from qsim.resources import is_program_path, lesson_paths

    status = 0
    for path in lesson_paths():
        program = is_program_path(path)
        try:
            lesson = load_program_lesson(path) if program else load_scenario(path)
        except ScenarioError as e:
            print(f"{path.stem:28} BROKEN: {e}")
            status = 1
            continue
        print(f"{lesson.id:28} {lesson.title}" + ("  [program]" if program else ""))
    return status


def _validate(path: str) -> int:
    from qsim.model.scenario_io import ScenarioError
    from qsim.resources import load_lesson

    try:
        lesson = load_lesson(path)
    except ScenarioError as e:
        print(e, file=sys.stderr)
        return 2
    print(f"{path}: ok ({lesson.id}: {lesson.title})")
    return 0


def _run(args: argparse.Namespace) -> int:
    from qsim.engine.headless import run_headless
    from qsim.model.scenario_io import ScenarioError
    from qsim.resources import is_program, load

    if args.speed is not None and not 0.1 <= args.speed <= 10:
        print(f"--speed must be between 0.1 and 10, got {args.speed:g}", file=sys.stderr)
        return 2
    if is_program(args.scenario):
        from qsim.lesson_cli import run_program_lesson

        return run_program_lesson(args)
    try:
        sc = load(args.scenario)
    except ScenarioError as e:
        print(e, file=sys.stderr)
        return 2
    if args.program_args:
        print(
            f"{sc.id} is a scenario: only program lessons take arguments after --", file=sys.stderr
        )
        return 2
    try:
        report, _ = run_headless(
            sc,
            duration=args.duration,
            start_method=args.start_method,
            speed=args.speed,
            seed=args.seed,
            record=args.record,
        )
    except ValueError as e:  # e.g. a start method this platform lacks
        print(e, file=sys.stderr)
        return 2
    except OSError as e:  # the recording could not be written
        print(f"{args.record}: cannot write the recording: {e.strerror or e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_summary(report)
    return 0


def _print_summary(report: dict[str, Any]) -> None:
    ac = report["accounting"]
    print(f"{report['scenario']} ({report['start_method']}), {report['duration_s']} s")
    print(
        f"  produced {ac['produced']}, consumed {ac['consumed']}, "
        f"in queue {ac['in_queue']}, lost {ac['lost']}"
    )
    for name, a in report["actors"].items():
        print(
            f"  {name:10} {a['role']:9} {a['state']:18} items {a['items']:6}"
            f"  blocked {a['blocked_s']:.2f} s  waiting {a['waiting_s']:.2f} s"
        )
    if report["hung"]:
        print(f"  HUNG: {', '.join(report['hung'])}")
    if report.get("verdict"):
        print(f"  verdict: {report['verdict']}")


def _bench(args: argparse.Namespace) -> int:
    if args.what == "engine":
        from qsim.engine.bench import bench_engine

        result = bench_engine(
            items=args.items, start_method=args.start_method, rounds=args.rounds or 5
        )
    elif args.what == "lessons":
        from qsim.engine.bench_lessons import bench_lessons

        if not 0.5 <= args.seconds <= 30:
            print("qsim bench lessons: --seconds must be from 0.5 to 30", file=sys.stderr)
            return 2
        result = bench_lessons(
            start_method=args.start_method, rounds=args.rounds or 3, seconds=args.seconds
        )
    elif args.what == "replay":
        from qsim.record.bench import bench_replay

        result = bench_replay(events=args.events, path=args.recording)
    elif args.what == "trace":
        from qsim.engine.bench_trace import bench_trace

        result = bench_trace(
            items=args.items,
            start_method=args.start_method,
            rounds=args.rounds or 3,
            python=args.python,
        )
    else:
        from qsim.ui.bench import bench_gui

        result = bench_gui(
            panels=args.panels, program=args.program, program_args=tuple(shlex.split(args.args))
        )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            print(f"{k:32} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
