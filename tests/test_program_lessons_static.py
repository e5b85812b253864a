"""Every program lesson is complete and honest: its text shows the program's
real source (read from the ``.py``, never copied), the program is stdlib only
and runs as ``python NN-id.py``, and every knob is an option the program
really takes, with the program's own default."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from lesson_runs import fast

from qsim.model.program_code import code_blocks
from qsim.model.program_lesson import ProgramKnob, ProgramLesson
from qsim.resources import builtin_path, load_program, program_ids

LESSONS = program_ids()
#: issue 13 part 6: these lessons are real programs now (and two from issue 12 part 7)
CONVERTED = [
    "basic",
    "many-to-many",
    "joinable",
    "priority",
    "pipeline",
    "pitfall-no-sentinel",
    "pitfall-join-before-drain",
    "inspect",
]


def test_the_lessons_of_the_issue_are_programs() -> None:
    assert set(CONVERTED) | {"queue-full", "spawn-pickling"} == set(LESSONS)


@pytest.mark.parametrize("lesson", LESSONS)
def test_files_agree(lesson: str) -> None:
    pl = load_program(lesson)
    toml = builtin_path(lesson)
    assert pl.id == lesson and toml.name.endswith(f"-{lesson}.toml")
    assert pl.program == toml.with_suffix(".py").resolve()
    assert pl.title and pl.summary
    assert pl.code == pl.program.read_text(encoding="utf-8")


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_text_shows_the_programs_real_source(lesson: str) -> None:
    pl = load_program(lesson)
    md = builtin_path(lesson).with_suffix(".md").read_text(encoding="utf-8")
    assert "```python" not in md, "code is read from the program, never copied into the text"
    assert "{{code" in md
    blocks = code_blocks(pl.lesson)
    assert blocks, "the pattern as a Python code block"
    lines = pl.code.splitlines()
    for block in blocks:
        for part in block.split("\n\n"):  # parts are joined by a blank line
            first, *_ = part.splitlines()
            n = lines.index(first)
            assert lines[n : n + len(part.splitlines())] == part.splitlines()
    assert pl.program.name in pl.lesson, "the text names the file that runs"
    text = pl.lesson
    assert text.startswith("# ")
    assert "## What to notice" in text
    assert "## Try" in text or "## The fix" in text
    assert len(text) < 4000, "short: students read it beside the diagram"


def _tree(pl: ProgramLesson) -> ast.Module:
    return ast.parse(pl.code)


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_program_is_stdlib_only_with_a_main_guard(lesson: str) -> None:
    tree = _tree(load_program(lesson))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)
    guards = [n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)]
    assert len(guards) == 1


def _options(pl: ProgramLesson) -> dict[str, dict[str, object]]:
    """The program's ``add_argument("--x", ...)`` calls: option -> keyword values."""
    out = {}
    for node in ast.walk(_tree(pl)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_argument"
        ):
            name = ast.literal_eval(node.args[0])
            out[name] = {
                k.arg: (ast.unparse(k.value) if k.arg == "type" else ast.literal_eval(k.value))
                for k in node.keywords
                if k.arg
            }
    return out


def _agrees(knob: ProgramKnob, option: dict[str, object]) -> None:
    if knob.kind == "flag":
        assert option.get("action") == "store_true" and knob.default is False
    elif knob.kind == "choice":
        assert set(knob.choices) <= set(option["choices"])  # type: ignore[call-overload]
        assert option.get("default") == knob.default
    else:
        assert option["type"] == ("int" if knob.whole else "float")
        assert option["default"] == knob.default


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_knob_is_an_option_of_the_program_with_its_default(lesson: str) -> None:
    pl = load_program(lesson)
    options = _options(pl)
    assert set(options["--start-method"]["choices"]) == {"fork", "spawn", "forkserver"}  # type: ignore[call-overload]
    assert pl.knobs, "every lesson offers something to try"
    for knob in pl.knobs:
        assert knob.tooltip, knob.name
        assert knob.arg in options, knob.arg
        _agrees(knob, options[knob.arg])


def _plain(pl: ProgramLesson, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, pl.program.name, *args],
        cwd=pl.program.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("lesson", LESSONS)
def test_help_lists_every_knob(lesson: str) -> None:
    pl = load_program(lesson)
    p = _plain(pl, "--help")
    assert p.returncode == 0, p.stderr
    for knob in pl.knobs:
        assert knob.arg in p.stdout


#: what turns a pitfall into a program that ends (its fix)
FIXED = {
    "pitfall-no-sentinel": {"Send DONE (the fix)": True},
    "pitfall-join-before-drain": {"Drain before join (the fix)": True},
    "spawn-pickling": {"Use a top-level function (the fix)": True},
}


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_program_runs_as_plain_python(lesson: str, start_method: str) -> None:
    """``python NN-id.py``, no qsim: it ends by itself and prints what it did."""
    pl = load_program(lesson)
    p = _plain(pl, *pl.argv({**fast(pl), **FIXED.get(lesson, {})}, start_method=start_method))
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert " put " in p.stdout or " got " in p.stdout


def test_the_pickling_lesson_fails_as_plain_python_under_spawn() -> None:
    pl = load_program("spawn-pickling")
    p = _plain(pl)
    assert p.returncode == 1
    assert "main.<locals>.nested_work" in p.stderr.splitlines()[-1]
    assert p.stdout == ""


def test_knob_values_become_the_programs_arguments() -> None:
    pl = load_program("pitfall-join-before-drain")
    assert pl.argv() == ["--items", "20", "--size", "65536"]
    argv = pl.argv({"Drain before join (the fix)": True, "Items": 3.0}, start_method="spawn")
    assert argv == ["--drain-first", "--items", "3", "--size", "65536", "--start-method", "spawn"]
    pick = load_program("spawn-pickling")
    assert pick.argv() == ["--start-method", "spawn"]
    assert pick.argv({"Start method": "fork"}) == ["--start-method", "fork"]
    assert pick.argv({"Start method": "fork"}, start_method="spawn") == [
        "--start-method",
        "spawn",
    ]
    waits = load_program("inspect").argv({"Wait before looking (s)": 0.001})
    assert waits[:2] == ["--wait", "0.001"]


def test_program_lessons_ship_beside_the_scenarios() -> None:
    folder = Path(load_program("basic").program).parent
    assert folder.name == "programs"
    assert sorted(p.stem for p in folder.glob("*.toml")) == sorted(
        p.stem for p in folder.glob("*.py")
    )
