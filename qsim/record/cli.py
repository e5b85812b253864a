"""``qsim replay`` and ``qsim export``: recordings from the command line."""

from __future__ import annotations

import argparse
import json
import os
import sys

from qsim.record.format import RecordingError


def replay_main(args: argparse.Namespace) -> int:
    """Replay a recording headless: the report of the recorded run."""
    from qsim.cli import _print_summary
    from qsim.record.recording import open_recording
    from qsim.record.replay import replay_report

    try:
        rec = open_recording(args.recording)
        rec.check_all()  # every record (and a program's growth) before it is replayed
        report = replay_report(rec)
    except RecordingError as e:
        print(e, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_summary(report)
    return 0


def export_main(args: argparse.Namespace) -> int:
    """Write a recording as Chrome/Perfetto trace-event JSON."""
    from qsim.record.perfetto import export_trace
    from qsim.record.recording import open_recording

    try:
        rec = open_recording(args.recording)
        rec.check_all()
    except RecordingError as e:
        print(e, file=sys.stderr)
        return 2
    part = f"{args.output}.part"
    tty = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if tty:
            print(f"\rexporting {done:,}/{total:,} events", end="", file=sys.stderr)

    try:
        with open(part, "w", encoding="utf-8") as out:
            counts = export_trace(rec, out, progress)
        os.replace(part, args.output)
    except OSError as e:
        print(f"{args.output}: cannot write it: {e.strerror or e}", file=sys.stderr)
        return 2
    except RecordingError as e:
        print(e, file=sys.stderr)
        return 2
    finally:
        if os.path.exists(part):
            os.unlink(part)
    if tty:
        print(file=sys.stderr)
    print(
        f"{args.output}: {len(rec):,} events: {counts['slices']:,} state slices, "
        f"{counts['ops']:,} puts and gets, {counts['counters']:,} depth samples; "
        "open it in Perfetto (ui.perfetto.dev) or chrome://tracing"
    )
    return 0
