"""A traced program's recording: what its meta block says, and what is checked.

A scenario's recording carries its topology up front; a traced program's
cannot: its processes and queues appear as it makes them (PROCESS_STARTED,
QUEUE_CREATED), and the reducer grows its topology from those very events.
So a program's recording stores the empty traced topology and lets replay
grow it again (snapshots keep the grown topology, ``snapshot_traced``); its
meta says which program ran (path, arguments, its source text as it was run,
so the Code dock needs no file), and how far the topology grew (``grown``:
processes and queues), which bounds every record's indexes.

A file may lie, so ``check_growth`` holds the records to it: no event names a
queue the program never made, and only the controller speaks for a process
that never started (it was killed before it could say so).
"""

from __future__ import annotations

import io
import json
import os
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qsim.model.events import EventKind
from qsim.model.program import Program
from qsim.model.traced import MAX_TRACED_INDEX
from qsim.record.format import RecordingError

K = EventKind
MAX_PATH = 4096
MAX_ARGS = 256
MAX_LESSON = 64 * 1024  # as a lesson's .md (qsim.model.limits)
MAX_FILES = 32  # files of the program whose text is kept (the ones its processes ran)
MAX_SOURCE_CHARS = 1 << 20  # characters of one file kept (the Code dock shows as many)
#: the program's texts together, as JSON, in a meta block of at most 4 MB
SOURCES_JSON_BUDGET = 2 * 1024 * 1024
#: what the controller may report for a process that never said it started
_FOR_THE_UNSTARTED = (int(K.ACTOR_CRASHED), int(K.ACTOR_EXITED))


@dataclass(frozen=True)
class ProgramMeta:
    """Which program a recording ran, checked (see ``parse_program``)."""

    path: str
    argv: tuple[str, ...] = ()
    title: str = ""
    lesson: str = ""
    internals: bool = False
    #: file -> its text as it was run (the main file first)
    sources: dict[str, str] = field(default_factory=dict)

    def program(self) -> Program:
        return Program(self.path, self.argv, self.title, self.lesson, self.internals)


# ------------------------------------------------------------------ writing
def read_source(path: str) -> str | None:
    """``path``'s text as Python reads it (its coding line), cut to
    ``MAX_SOURCE_CHARS``; None if it cannot be read."""
    try:
        with open(path, "rb") as f:
            data = f.read(4 * MAX_SOURCE_CHARS + 4)
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding, "replace")[:MAX_SOURCE_CHARS]
    except (OSError, SyntaxError, LookupError):
        return None


def program_meta(program: Program) -> dict[str, Any]:
    """The ``program`` part of a meta block, read as the run starts (so the
    recording keeps the source that ran, even if the file changes later)."""
    out: dict[str, Any] = {
        "path": program.path,
        "argv": list(program.args),
        "title": program.title,
        "lesson": program.lesson,
        "internals": program.internals,
        "sources": {},
    }
    add_source(out, program.path)
    return out


def add_source(meta: dict[str, Any], path: str) -> bool:
    """Keep ``path``'s text in a ``program_meta`` (a file the program's processes
    ran lines of), within the budget; False if it is not kept."""
    sources: dict[str, str] = meta["sources"]
    if path in sources or len(sources) >= MAX_FILES or not path.endswith(".py"):
        return False
    text = read_source(path)
    if text is None:
        return False
    used = sum(len(json.dumps(t)) for t in sources.values())
    if used + len(json.dumps(text)) > SOURCES_JSON_BUDGET:
        return False
    sources[path] = text
    return True


# ------------------------------------------------------------------ checking
def parse_program(raw: Any, bad: Callable[[str, str], RecordingError]) -> ProgramMeta:
    """A meta block's ``program`` part, field by field (``bad(field, why)``)."""
    if not isinstance(raw, dict):
        raise bad("program", "is missing (a traced program's recording needs it)")
    path = raw.get("path")
    if not (isinstance(path, str) and 0 < len(path) <= MAX_PATH and "\0" not in path):
        raise bad("program.path", "must be a file's path")
    argv = raw.get("argv", [])
    if not (
        isinstance(argv, list)
        and len(argv) <= MAX_ARGS
        and all(isinstance(a, str) and len(a) <= MAX_PATH for a in argv)
    ):
        raise bad("program.argv", f"must be a list of at most {MAX_ARGS} texts")
    texts = {}
    for key, limit in (("title", 200), ("lesson", MAX_LESSON)):
        v = raw.get(key, "")
        if not (isinstance(v, str) and len(v) <= limit):
            raise bad(f"program.{key}", f"must be a text of at most {limit:,} characters")
        texts[key] = v
    internals = raw.get("internals", False)
    if not isinstance(internals, bool):
        raise bad("program.internals", "must be true or false")
    sources = raw.get("sources", {})
    if not (
        isinstance(sources, dict)
        and len(sources) <= MAX_FILES
        and all(
            isinstance(k, str)
            and 0 < len(k) <= MAX_PATH
            and isinstance(v, str)
            and len(v) <= MAX_SOURCE_CHARS
            for k, v in sources.items()
        )
    ):
        raise bad("program.sources", f"must map at most {MAX_FILES} files to their text")
    return ProgramMeta(
        path, tuple(argv), texts["title"], texts["lesson"], internals, dict(sources)
    )


def parse_grown(raw: Any, bad: Callable[[str, str], RecordingError]) -> tuple[int, int]:
    """(processes, queues) the program's topology grew to."""
    if not isinstance(raw, dict):
        raise bad("grown", "is missing (how many processes and queues the program made)")
    out = []
    for key in ("actors", "queues"):
        v = raw.get(key)
        if not (type(v) is int and 0 <= v <= MAX_TRACED_INDEX):
            raise bad(f"grown.{key}", f"must be a count from 0 to {MAX_TRACED_INDEX}")
        out.append(v)
    return out[0], out[1]


def growth(arr: np.ndarray) -> tuple[int, int]:
    """(processes, queues) the events of ``arr`` grow a traced topology to (as the
    reducer does: actor and queue indexes of PROCESS_STARTED and QUEUE_CREATED)."""
    kinds = arr["kind"]
    started = arr["actor"][kinds == K.PROCESS_STARTED]
    created = arr["queue"][kinds == K.QUEUE_CREATED]
    started = started[started >= 0]
    created = created[created >= 0]
    return (
        int(started.max()) + 1 if len(started) else 0,
        int(created.max()) + 1 if len(created) else 0,
    )


def check_growth(name: str, arr: np.ndarray, lo: int, grown: tuple[int, int]) -> None:
    """Records ``lo``... of a program's recording stay within what the program
    grew to (``grown``, from its meta): ``RecordingError`` for the first that does not."""
    n_actors, n_queues = grown
    kinds, actor, queue = arr["kind"], arr["actor"], arr["queue"]
    bad_queue = queue >= n_queues
    unstarted = (actor >= n_actors) & ~np.isin(kinds, _FOR_THE_UNSTARTED)
    for bad, what in ((bad_queue, "queue"), (unstarted, "process")):
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            r = arr[i]
            kind = _kind_name(int(r["kind"]))
            if what == "queue":
                why = f"names queue #{r['queue']}, which the program never made"
            else:
                why = f"comes from process #{r['actor']}, which never started"
            raise RecordingError(f"{name}: record {lo + i} ({kind}) {why}: corrupt")


def _kind_name(kind: int) -> str:
    try:
        return EventKind(kind).name
    except ValueError:
        return f"kind {kind}"


def check_grown(name: str, grown: tuple[int, int], made: tuple[int, int]) -> None:
    """The meta's ``grown`` is what the records make (``made``, by ``growth``)."""
    if grown != made:
        raise RecordingError(
            f"{name}: its meta says the program made {grown[0]} processes and "
            f"{grown[1]} queues, its events make {made[0]} and {made[1]}: corrupt"
        )


def program_name(meta: ProgramMeta) -> str:
    return os.path.basename(meta.path)


# ------------------------------------------------------------------ the report
def program_run_info(
    head: dict[str, Any],
    stuck: dict[str, str],
    exit_code: int | None,
    returncode: int | None,
    stdout: str,
    stderr: str,
) -> dict[str, Any]:
    """What only the live run knew, kept in the meta's ``run`` for the report
    (``qsim.model.program.program_report``'s arguments)."""
    return {
        "head": head,
        "stuck": dict(stuck),
        "exit_code": exit_code,
        "returncode": returncode,
        "stdout": stdout,
        "stderr": stderr,
    }


def program_report_args(
    run: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, str], int | None, int | None, str, str]:
    """A recording's ``program_run_info``, each field checked (what is wrong is
    left out: the report is made from the events, these only complete it)."""
    raw = run.get("head")
    head: dict[str, Any] = {}
    if isinstance(raw, dict):
        for k in REPORT_HEAD:
            v = raw.get(k)
            if isinstance(v, str | int | float | bool) or (
                isinstance(v, list) and all(isinstance(a, str) for a in v)
            ):
                head[k] = v
    stuck = run.get("stuck")
    if not (
        isinstance(stuck, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in stuck.items())
    ):
        stuck = {}

    def code(v: Any) -> int | None:
        return v if type(v) is int and -(2**31) <= v < 2**31 else None

    def text(v: Any) -> str:
        return v if isinstance(v, str) else ""

    return (
        head,
        stuck,
        code(run.get("exit_code")),
        code(run.get("returncode")),
        text(run.get("stdout")),
        text(run.get("stderr")),
    )


#: the fields of a program's report that only the live run knew
REPORT_HEAD = (
    "program",
    "args",
    "start_method",
    "duration_s",
    "events_emitted",
    "events_received",
    "finished",
)
