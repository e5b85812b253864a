"""A user's Python program as the window's current "lesson" (no Qt here).

The views are built around a ``Scenario`` (title, lesson text, run options);
a traced program gets one too, with no queues or workers of its own: its
topology grows from what the program does. ``Program`` says what to run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from qsim.model.metrics import build_report, traced_details
from qsim.model.scenario import RunOptions, Scenario
from qsim.model.state import Reducer

#: a program runs until it ends, hangs or is stopped (a day: never in practice)
PROGRAM_DURATION_S = 86_400.0
OUTPUT_IN_REPORT = 20_000  # characters of the program's stdout/stderr in the report


@dataclass(frozen=True)
class Program:
    """``python PATH ARGS...``, traced; ``title`` and ``lesson`` for the views."""

    path: str
    args: tuple[str, ...] = ()
    title: str = ""
    lesson: str = ""  # markdown shown beside the diagram ("" : a short description)
    internals: bool = False  # follow each Queue's items through feeder buffer and pipe

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def command(self) -> str:
        """``python prog.py 4 fork``, as a student would type it."""
        return " ".join(["python", self.name, *(_quote(a) for a in self.args)])

    def scenario(self, hang_after: float = 3.0) -> Scenario:
        text = self.lesson or (
            f"# {self.title or self.name}\n\n"
            f"`{self.command}`, run by qsim: every process it starts and every "
            "queue it makes appear in the diagram as the program makes them, "
            "and each token is an object it really put on a queue (its `repr`).\n\n"
            "The **Code** panel shows the line each process is on. Pause and "
            "Step work as for a lesson: one step is one queue operation."
        )
        return Scenario(
            id=f"program:{self.path}",
            title=self.title or self.name,
            queues=(),
            run=RunOptions(duration=PROGRAM_DURATION_S, hang_after=hang_after),
            summary=self.command,
            lesson=text,
            source=self.path,
        )


def program_report(
    r: Reducer,
    head: dict[str, Any],
    stuck: dict[str, str],
    exit_code: int | None,
    returncode: int | None,
    stdout: str,
    stderr: str,
) -> dict[str, Any]:
    """The report of a traced program's run (``qsim trace --headless --json``, and
    ``qsim replay --headless --json`` of its recording): ``build_report``'s, plus
    each process's pid, puts and line, the program's exit code, output, messages.

    ``head``: program, args, start method, duration, events, finished;
    ``stuck``: each hung process and where it waited, when it was found hung;
    ``exit_code``: the main process's; ``returncode``: the program's."""
    report = build_report(r, **head)
    traced_details(r, report)
    for name in stuck:  # a stop ends a hung program: it is still shown hung
        if name in report["actors"]:
            report["actors"][name]["state"] = "hung"
    report["hung"] = sorted(stuck)
    report["exit_codes"] = {"main": exit_code}
    report["exit_codes"].update({a.name: a.exit_code for a in r.actors[1:] if a.started})
    report["stdout"] = stdout[-OUTPUT_IN_REPORT:]
    report["stderr"] = stderr[-OUTPUT_IN_REPORT:]
    report["messages"] = program_messages(r, returncode, stuck)
    return report


def hung_where(r: Reducer) -> dict[str, str]:
    """Each process found hung, and where it waited then (its HUNG event says
    ``<where>, no progress for 3 s``): still known after the hung run was stopped."""
    return {
        a.name: a.hung_reason.split(", no progress for ", 1)[0]
        for a in r.actors
        if a.hung and a.hung_reason
    }


def program_messages(r: Reducer, returncode: int | None, stuck: dict[str, str]) -> list[str]:
    """What a student should know about a program's run, in plain words (the
    live run's and its recording's: ``returncode`` is the main process's exit code,
    ``stuck`` where each hung process waited)."""
    out: list[str] = []
    if stuck:
        out.append("The program hung: " + "; ".join(f"{n} {w}" for n, w in stuck.items()) + ".")
    for a in r.actors:
        if a.state == "crashed" or (a.exit_code not in (0, None) and a.role == "process"):
            err = f": {a.last_error}" if a.last_error else ""
            out.append(f"{a.name} crashed (exit code {a.exit_code}){err}.")
    own = [q for q in r.queues if not q.internal]
    if not r.queues:
        out.append("The program used no queue: there is nothing to animate.")
    if any(q.internal for q in r.queues) or any(a.internal for a in r.actors):
        out.append(
            "The program uses a Pool, a manager or an executor: the queues and "
            "processes it made for itself are shown as internal."
        )
    if r.queues and not own:
        out.append("The program made no queue of its own: only internal ones.")
    if returncode not in (0, None) and not any("main crashed" in m for m in out):
        out.append(f"The program ended with exit code {returncode}.")
    return out


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)
