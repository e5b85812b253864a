"""Hostile scenario files (issue 15, items 5 and 8): every one is refused with
one clear ``ScenarioError`` line by ``validate``, ``qsim validate``, ``qsim run``
and File > Open, never a traceback, a hang, a crash or an OOM, and an open
window keeps its current run.

The corpus is ``tests/hostile/*.toml`` (hand-written: line 1 says what a file
tests, line 2 the message it must give), plus files made here that cannot be
committed (links to ``/dev/zero``, FIFOs, megabytes), plus TOML documents that
hypothesis builds from the schema's field names.
"""

from __future__ import annotations

import dataclasses
import os
import resource
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import tomli_w
from handy import handy, scenario_ref
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from qsim import cli
from qsim.model import limits
from qsim.model.events import ITEM_BASE
from qsim.model.scenario import ConsumerSpec, Knob, MainSpec, ProducerSpec, QueueSpec, RunOptions
from qsim.model.scenario_io import (
    ScenarioError,
    apply_knob,
    dump_scenario,
    knob_value,
    load_scenario,
    parse_scenario,
)
from qsim.model.topology import build_topology
from qsim.resources import builtin_path
from qsim.ui.main_window import MainWindow
from qsim.ui.session import LiveSession

HERE = Path(__file__).resolve().parent
CORPUS = sorted((HERE / "hostile").glob("*.toml"))
MAX_MESSAGE = 600  # characters: an error box a student can read


def _expected(path: Path) -> str:
    lines = path.read_bytes().split(b"\n")
    assert lines[0].startswith(b"# ") and lines[1].startswith(b"# expect: "), path.name
    return lines[1][len(b"# expect: ") :].decode()


# ------------------------------------------------------------ made at test time
def _valid(title: str = "Made here") -> str:
    return (
        f'[scenario]\nid = "made"\ntitle = "{title}"\n\n[[queues]]\nid = "q"\n\n'
        '[[producers]]\nid = "P"\nqueue = "q"\nitems = 3\nsentinels = 1\n\n'
        '[[consumers]]\nid = "C"\nqueue = "q"\n'
    )


def _write(tmp: Path, name: str, text: str | bytes) -> Path:
    p = tmp / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return p


def _needs(what: str) -> None:
    if what == "fifo" and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    if what == "devzero" and not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero on this platform")
    if what == "symlink" and sys.platform == "win32":
        pytest.skip("symlinks need privileges on Windows")


def _symlink(tmp: Path, name: str, target: str | Path) -> Path:
    _needs("symlink")
    p = tmp / name
    p.symlink_to(target)
    return p


def _fifo(tmp: Path, name: str) -> Path:
    _needs("fifo")
    p = tmp / name
    os.mkfifo(p)
    return p


def _zero(tmp: Path, name: str) -> Path:
    _needs("devzero")
    return _symlink(tmp, name, "/dev/zero")


def _folder(tmp: Path, name: str) -> Path:
    (tmp / name).mkdir()
    return tmp / name


def _with_lesson(tmp: Path, md: Callable[[Path], object]) -> Path:
    p = _write(tmp, "withmd.toml", _valid())
    md(tmp / "withmd.md")
    return p


def _bytes(n: int) -> Callable[[Path], object]:
    return lambda p: p.write_bytes(b"x" * n)


MADE: dict[str, tuple[Callable[[Path], Path], str]] = {
    "queue id of 200 KB (crashed Qt)": (
        lambda t: _write(t, "qid.toml", _valid().replace('"q"', '"' + "q" * 200_000 + '"')),
        "(queues[0].id): must be letters, digits, _ and -, at most 32",
    ),
    "title of 500 KB (froze the window)": (
        lambda t: _write(t, "title.toml", _valid("T" * 500_000)),
        "(scenario.title): must be at most 120 characters, got 500,000",
    ),
    "file of 3 MB": (
        lambda t: _write(t, "big.toml", _valid() + "# " + "x" * 3_000_000 + "\n"),
        "a scenario's files may have at most 1,048,576",
    ),
    "12,000 queues (too many open files)": (
        lambda t: _write(
            t, "q12k.toml", "".join(f'[[queues]]\nid = "q{n}"\n' for n in range(12000))
        ),
        f"not a scenario: more than {limits.MAX_TABLES} tables",
    ),
    "dotted key of 3,000 parts": (
        lambda t: _write(t, "dots.toml", "a" + ".a" * 2999 + " = 1\n"),
        "line 1: not a scenario: a dotted key with more than 16 parts",
    ),
    "100,000 nested arrays": (
        lambda t: _write(t, "deep.toml", "a = " + "[" * 100_000 + "]" * 100_000 + "\n"),
        "line 1: not a scenario: values nested more than 16 levels deep",
    ),
    "a link to /dev/zero (memory grew until the OOM killer)": (
        lambda t: _zero(t, "zero.toml"),
        "zero.toml: is a character device, not a file",
    ),
    "a FIFO (opening it would wait for a writer)": (
        lambda t: _fifo(t, "fifo.toml"),
        "fifo.toml: is a named pipe, not a file",
    ),
    "a folder": (
        lambda t: _folder(t, "folder.toml"),
        "folder.toml: is a folder, not a file",
    ),
    "a missing file": (
        lambda t: t / "missing.toml",
        "missing.toml: cannot read the file: No such file or directory",
    ),
    "a link to itself": (
        lambda t: _symlink(t, "loop.toml", t / "loop.toml"),
        "loop.toml: cannot read the file:",
    ),
    "a lesson .md that links to /dev/zero": (
        lambda t: _with_lesson(t, lambda md: _zero(t, md.name)),
        "withmd.md (the lesson text of withmd.toml): is a character device",
    ),
    "a lesson .md that is a FIFO": (
        lambda t: _with_lesson(t, lambda md: _fifo(t, md.name)),
        "withmd.md (the lesson text of withmd.toml): is a named pipe",
    ),
    "a lesson .md of 1 MB": (
        lambda t: _with_lesson(t, _bytes(1_000_000)),
        "withmd.md (the lesson text of withmd.toml): is 1,000,000 bytes",
    ),
    "a lesson .md of 20,000 characters": (
        lambda t: _with_lesson(t, _bytes(20_000)),
        "withmd.md: must be at most 16,000 characters, got 20,000",
    ),
    "a lesson .md with NUL bytes (valid UTF-8, not text)": (
        lambda t: _with_lesson(t, lambda md: md.write_bytes(b"# Lesson\n\x00\x00\x00")),
        "withmd.md: must not contain a control character (U+0000",
    ),
}


@pytest.fixture(params=[p.name for p in CORPUS] + list(MADE))
def hostile(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    """One hostile file and the message it must give."""
    name = str(request.param)
    if name in MADE:
        make, expect = MADE[name]
        return make(tmp_path), expect
    path = HERE / "hostile" / name
    return path, _expected(path)


def _check_message(msg: str, path: Path, expect: str) -> None:
    assert expect in msg, msg
    assert msg.startswith(path.stem), msg  # the file (or the lesson .md beside it)
    assert "\n" not in msg and len(msg) <= MAX_MESSAGE, msg[:MAX_MESSAGE]


# ------------------------------------------------------------------ validate
def test_every_corpus_file_says_what_it_tests() -> None:
    assert len(CORPUS) >= 30
    for path in CORPUS:
        assert _expected(path)


def test_validate_refuses_it_with_one_clear_line(hostile: tuple[Path, str]) -> None:
    path, expect = hostile
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    _check_message(str(e.value), path, expect)


def test_qsim_validate_and_run_print_one_line_and_fail(
    hostile: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    path, expect = hostile
    for argv in (["validate", str(path)], ["run", str(path), "--headless", "--json"]):
        assert cli.main(argv) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.endswith("\n") and err.count("\n") == 1, err[:MAX_MESSAGE]
        _check_message(err.strip(), path, expect)


def _limited_memory() -> None:
    """The child may use 1.5 GB: a file that made tomllib eat memory fails, not the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))


@pytest.mark.skipif(sys.platform == "win32", reason="memory limit via setrlimit")
def test_the_real_commands_refuse_the_worst_files(tmp_path: Path) -> None:
    """``qsim validate`` / ``qsim run`` as processes, on the files that hurt most:
    a 200,000-part dotted key (quadratic memory in tomllib), /dev/zero, deep nesting."""
    cases = {
        _write(tmp_path, "dots.toml", "a" + ".a" * 199_999 + " = 1\n"): "dotted key",
        HERE / "hostile" / "nested-brackets.toml": "nested more than",
        HERE / "hostile" / "binary-lesson.toml": "is not UTF-8 text",
    }
    if Path("/dev/zero").exists():
        cases[_symlink(tmp_path, "zero.toml", "/dev/zero")] = "character device"
    for path, expect in cases.items():
        for argv in (["validate", str(path)], ["run", str(path), "--headless", "--json"]):
            done = subprocess.run(
                [sys.executable, "-m", "qsim", *argv],
                capture_output=True,
                text=True,
                timeout=30,
                preexec_fn=_limited_memory,
            )
            assert done.returncode == 2, (argv, done.stderr[-2000:])
            assert done.stdout == ""
            assert done.stderr.count("\n") == 1 and expect in done.stderr, done.stderr[-2000:]


# ---------------------------------------------------------------- File > Open
LONG_RUN = """\
[scenario]
id = "long-run"
title = "A run that goes on while files are opened"

[run]
duration = 120.0

[[queues]]
id = "q"
maxsize = 5

[[producers]]
id = "P"
queue = "q"
items = 5000
interval = 0.05
sentinels = 1

[[consumers]]
id = "C"
queue = "q"
work_time = 0.05
"""


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, start_method: str) -> Iterator[MainWindow]:
    session = LiveSession(start_method=start_method)
    settings = QSettings(str(tmp_path / "qsim.ini"), QSettings.Format.IniFormat)
    win = MainWindow(session, settings)
    session.setParent(win)
    qtbot.addWidget(win)
    win.resize(1280, 720)
    with qtbot.waitExposed(win):
        win.show()
    yield win
    win.close()


def test_file_open_shows_an_error_box_and_the_run_goes_on(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    win = window
    win.show_scenario(parse_scenario(LONG_RUN, "long.toml"))
    win.actions_run.play.trigger()
    session = win.session
    scenario, run = session.scenario, session.run
    assert run is not None
    qtbot.waitUntil(lambda: session.reducer is not None and session.reducer.actors[1].items > 0)
    files = [(p, _expected(p)) for p in CORPUS]
    for name, (make, expect) in MADE.items():
        if "FIFO" in name and not hasattr(os, "mkfifo"):
            continue
        if "/dev/zero" in name and not Path("/dev/zero").exists():
            continue
        sub = tmp_path / f"made{len(files)}"
        sub.mkdir()
        files.append((make(sub), expect))
    for path, expect in files:
        assert not win.open_lesson(str(path))
        boxes = [b for b in win.findChildren(QMessageBox) if b.isVisible()]
        assert len(boxes) == 1, path.name
        _check_message(boxes[0].text(), path, expect)
        boxes[0].close()
        assert session.scenario is scenario and session.run is run
        assert session.status == "running", path.name
    items = session.reducer.actors[1].items if session.reducer else 0
    qtbot.waitUntil(
        lambda: session.reducer is not None and session.reducer.actors[1].items > items
    )


def _wide_pipeline(layers: int) -> str:
    """``layers`` stages of 2 parallel workers each: 2**layers paths through it."""
    text = '[scenario]\nid = "wide"\ntitle = "Wide"\n'
    text += "".join(f'[[queues]]\nid = "L{n}"\n' for n in range(layers + 1))
    text += '[[producers]]\nid = "P"\nqueue = "L0"\nitems = 1\n'
    for n in range(layers):
        for k in "ab":
            text += f'[[consumers]]\nid = "S{n}{k}"\nqueue = "L{n}"\noutput = "L{n + 1}"\n'
    return text


def test_a_wide_pipeline_is_checked_queue_by_queue_not_path_by_path() -> None:
    assert len(parse_scenario(_wide_pipeline(31)).consumers) == 62  # 2**31 paths
    looped = _wide_pipeline(30) + '[[consumers]]\nid = "back"\nqueue = "L30"\noutput = "L2"\n'
    with pytest.raises(
        ScenarioError, match=r"\(consumers\[60\]\.output\): a pipeline cycle: L2 -> S2a"
    ):
        parse_scenario(looped, "wide.toml")


# ------------------------------------------------------------------ item 8
def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    text = builtin_path("backpressure").read_text(encoding="utf-8")
    path = _write(tmp_path, "bom.toml", b"\xef\xbb\xbf" + text.encode())
    assert load_scenario(path).id == "backpressure"
    assert parse_scenario("\ufeff" + text).id == "backpressure"


def test_a_stage_id_ending_in_a_digit_keeps_its_name() -> None:
    text = (
        '[scenario]\nid = "s"\ntitle = "S"\n[[queues]]\nid = "a"\n[[queues]]\nid = "b"\n'
        '[[producers]]\nid = "P"\nqueue = "a"\nitems = 1\n'
        '[[consumers]]\nid = "S1"\nqueue = "a"\noutput = "b"\n'
        '[[consumers]]\nid = "S2"\nqueue = "b"\ncount = 2\n'
    )
    names = build_topology(parse_scenario(text)).names
    assert names == ["main", "P1", "S1", "S2-1", "S2-2"]


# ------------------------------------------------------------------ knobs
@pytest.mark.parametrize(
    "path",
    ["run.__class__", "queues.q.kind", "producers.P.__dict__", "main.join", "consumers.C.id"],
)
def test_a_knob_changes_only_numeric_fields_of_the_allow_list(path: str) -> None:
    sc = handy("small-basic")
    knob = Knob("evil", path, 0, 1, 0)
    with pytest.raises(ScenarioError, match="a knob may change"):
        apply_knob(sc, knob, 1)
    with pytest.raises(KeyError, match="a knob may change"):
        knob_value(sc, knob)


def test_every_allowed_knob_field_is_a_number_of_the_schema() -> None:
    tables = {
        "queues": QueueSpec,
        "producers": ProducerSpec,
        "consumers": ConsumerSpec,
        "main": MainSpec,
        "run": RunOptions,
    }
    for section, fields in limits.RANGES.items():
        types = {f.name: str(f.type) for f in dataclasses.fields(tables[section])}
        for name in fields:
            assert types[name] in ("int", "float"), (section, name)


def test_limits_agree_with_the_engine() -> None:
    """The engine's shared arrays have a slot for everything a valid scenario asks for."""
    import multiprocessing

    from qsim.engine import run
    from qsim.engine.control import LIVE_FIELDS, RunControl, live_slot

    assert limits.MAX_ITEMS < ITEM_BASE  # item ids of two producers never meet
    assert run.MAX_ACTORS == limits.MAX_ACTORS
    ctl = RunControl(multiprocessing.get_context("spawn"), limits.MAX_ACTORS)
    assert len(ctl.group_workers) == len(ctl.group_alive) == limits.MAX_GROUPS
    assert len(ctl.stop_adjust) == len(ctl.stops_sent) == limits.MAX_QUEUES
    last = max(
        live_slot(r, limits.MAX_GROUPS - 1, f)
        for r in ("producer", "consumer")
        for f in LIVE_FIELDS
    )
    assert last < len(ctl.live)


# ------------------------------------------------------------------ hypothesis
_SCHEMA = {
    "scenario": ["id", "title", "summary", "lesson"],
    "queues": [f.name for f in dataclasses.fields(QueueSpec)],
    "producers": [f.name for f in dataclasses.fields(ProducerSpec)],
    "consumers": [f.name for f in dataclasses.fields(ConsumerSpec)],
    "main": [f.name for f in dataclasses.fields(MainSpec)],
    "run": [f.name for f in dataclasses.fields(RunOptions)],
    "knobs": [f.name for f in dataclasses.fields(Knob)],
}
_scalars = st.one_of(
    st.integers(-(2**70), 2**70),
    st.integers(-3, 20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["q", "P", "C", "Queue", "JoinableQueue", "producers.P.items", "*"]),
    st.booleans(),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def _documents(draw: st.DrawFn) -> dict[str, object]:
    doc: dict[str, object] = {"scenario": {"id": "h", "title": "H"}}
    for section, fields in _SCHEMA.items():
        if not draw(st.booleans()):
            continue

        def row(fields: list[str] = fields) -> dict[str, object]:
            keys = draw(st.lists(st.sampled_from([*fields, "bogus"]), max_size=6, unique=True))
            return {k: draw(_values) for k in keys}

        if section in ("scenario", "main", "run"):
            base = doc.get(section, {})
            assert isinstance(base, dict)
            doc[section] = {**base, **row()}
        else:
            doc[section] = [row() for _ in range(draw(st.integers(0, 3)))]
    return doc


@st.composite
def _mutated(draw: st.DrawFn) -> dict[str, object]:
    """A built-in lesson with a few fields set to random values."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    lesson = draw(
        st.sampled_from(
            ["small-basic", "small-pipeline", "pitfall-large-objects", "small-joinable"]
        )
    )
    doc = tomllib.loads(scenario_path(lesson).read_text(encoding="utf-8"))
    for _ in range(draw(st.integers(1, 3))):
        section = draw(st.sampled_from(list(_SCHEMA)))
        key = draw(st.sampled_from([*_SCHEMA[section], "bogus"]))
        target = doc.setdefault(
            section, [{}] if section not in ("scenario", "main", "run") else {}
        )
        if isinstance(target, list):
            if not target:
                target.append({})
            target = target[draw(st.integers(0, len(target) - 1))]
        target[key] = draw(_values)
    return doc


def scenario_path(name: str) -> Path:
    return Path(scenario_ref(name)) if name.startswith("small-") else builtin_path(name)


def _parse_or_refuse(doc: dict[str, object]) -> None:
    try:
        text = tomli_w.dumps(doc)
    except (TypeError, ValueError):  # a document TOML cannot write (None, odd keys)
        return
    try:
        sc = parse_scenario(text, "made.toml")
    except ScenarioError as e:
        msg = str(e)
        assert msg.startswith("made.toml") and "\n" not in msg and len(msg) <= MAX_MESSAGE
        return
    # a scenario that validates is one the engine can number and save back
    topo = build_topology(sc)
    assert len(topo.actors) <= limits.MAX_ACTORS and len(topo.queues) <= limits.MAX_QUEUES
    assert len(set(topo.names)) == len(topo.names)
    again = parse_scenario(dump_scenario(sc), "made.toml")
    assert dataclasses.replace(again, source="") == dataclasses.replace(sc, source="")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents())
def test_random_documents_validate_or_are_refused(doc: dict[str, object]) -> None:
    _parse_or_refuse(doc)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_mutated_lessons_validate_or_are_refused(doc: dict[str, object]) -> None:
    _parse_or_refuse(doc)
