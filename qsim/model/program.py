"""A user's Python program as the window's current "lesson" (no Qt here).

The views are built around a ``Scenario`` (title, lesson text, run options);
a traced program gets one too, with no queues or workers of its own: its
topology grows from what the program does. ``Program`` says what to run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from qsim.model.scenario import RunOptions, Scenario

#: a program runs until it ends, hangs or is stopped (a day: never in practice)
PROGRAM_DURATION_S = 86_400.0


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


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)
