"""A program lesson's files are untrusted input, like a scenario file: every
problem is one ``ScenarioError`` line naming the file, the line and the field
(``qsim validate`` and ``qsim run`` answer the same), never a traceback, and
nothing outside the lesson's folder is ever read or run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from qsim.model.program_code import parts, render
from qsim.model.program_lesson import load_program_lesson
from qsim.model.scenario_errors import ScenarioError
from qsim.resources import builtin_path, is_program, load_lesson

MAX_MESSAGE = 600

Make = Callable[..., Path]


@pytest.fixture
def lesson_copy(tmp_path: Path) -> Make:
    """``lesson_copy(edit=lambda toml: toml)``: basic's three files in a folder of
    the test's own, the .toml passed through ``edit``; returns the .toml."""

    def make(edit: Callable[[str], str] = lambda s: s, name: str = "01-basic") -> Path:
        src = builtin_path("basic")
        for ext in (".py", ".md"):
            shutil.copy(src.with_suffix(ext), tmp_path / f"{name}{ext}")
        toml = tmp_path / f"{name}.toml"
        toml.write_text(edit(src.read_text(encoding="utf-8")), encoding="utf-8")
        return toml

    return make


def _refused(path: Path) -> str:
    with pytest.raises(ScenarioError) as e:
        load_program_lesson(path)
    msg = str(e.value)
    assert "\n" not in msg and len(msg) <= MAX_MESSAGE, msg
    return msg


def test_a_copy_loads_and_runs_from_its_own_folder(lesson_copy: Make) -> None:
    path = lesson_copy()
    pl = load_program_lesson(path)
    assert pl.id == "basic" and pl.program == path.with_suffix(".py")
    assert is_program(path) and load_lesson(path) == pl


@pytest.mark.parametrize(
    "old, new, expect",
    [
        ("[lesson]", "[lessons]", "01-basic.toml (lesson): missing [lesson] table with id, title"),
        (
            "[[knobs]]",
            "[[knob]]",
            "01-basic.toml, line 6 (knob[0]): unknown section (known: lesson, knobs)",
        ),
        (
            'id = "basic"',
            'id = "Basic!"',
            "01-basic.toml, line 2 (lesson.id): must be lower-case letters",
        ),
        (
            'id = "basic"',
            'id = "basic"\ncolour = "red"',
            "01-basic.toml, line 3 (lesson.colour): unknown field",
        ),
        (
            'id = "basic"',
            'id = "basic"\nprogram = "../evil.py"',
            "(lesson.program): must be the name of a .py file beside 01-basic.toml",
        ),
        (
            'id = "basic"',
            'id = "basic"\nprogram = "/etc/passwd"',
            "(lesson.program): must be the name of a .py file",
        ),
        (
            'id = "basic"',
            'id = "basic"\nprogram = "other.py"',
            "(lesson.program): other.py is not beside 01-basic.toml",
        ),
        (
            'id = "basic"',
            'id = "basic"\nexpect = "explode"',
            "(lesson.expect): must be one of finish, hang, error",
        ),
        (
            'id = "basic"',
            'id = "basic"\nhang_after = 0.01',
            "(lesson.hang_after): must be between 0.5 and 600",
        ),
        ('arg = "--items"', 'arg = "-c"', "(knobs[0].arg): must be a long option like --items"),
        ('arg = "--items"', 'arg = "--items; rm -rf"', "(knobs[0].arg): must be a long option"),
        (
            'arg = "--items"',
            'arg = "--colour"',
            "(knobs[0].arg): the program never mentions --colour",
        ),
        (
            'arg = "--delay"',
            'arg = "--items"',
            "(knobs[1].arg): another knob sets --items already",
        ),
        ('name = "Items"', 'name = "Consumer work time (s)"', "knob names must be unique"),
        ("max = 50", "max = 0", "(knobs[0].max): max (0) is below min (1)"),
        ("default = 5", "default = 500", "(knobs[0].default): must be between 1 and 50, got 500"),
        ("default = 5", 'default = "five"', "(knobs[0].default): must be a number"),
        ("max = 50", "max = 1e12", "(knobs[0].max): must be between -1000000000 and 1000000000"),
        ("step = 0.05", "step = 0", "(knobs[1].step): must be above 0"),
        (
            'name = "Items"',
            'name = "Items"\nkind = "slider"',
            "(knobs[0].kind): must be one of number, flag, choice",
        ),
        (
            'name = "Items"',
            'name = "Items"\nchoices = ["a"]',
            "(knobs[0].choices): not a field of a number knob",
        ),
    ],
)
def test_each_mistake_is_one_line_naming_file_line_and_field(
    lesson_copy: Make, old: str, new: str, expect: str
) -> None:
    path = lesson_copy(lambda s: s.replace(old, new, 1))
    assert expect in _refused(path)


FLAG = '\n[[knobs]]\nname = "Fixed"\narg = "--items"\nkind = "flag"\ndefault = {default}\n'
CHOICE = (
    '\n[[knobs]]\nname = "How"\narg = "--start-method"\nkind = "choice"\n'
    "choices = {choices}\ndefault = {default}\n"
)


def _only(knob: str) -> Callable[[str], str]:
    return lambda s: s.split("[[knobs]]")[0] + knob


@pytest.mark.parametrize(
    "knob, expect",
    [
        (FLAG.format(default="1"), "(knobs[0].default): must be true or false, got 1"),
        (CHOICE.format(choices='["spawn"]', default='"fork"'), "must be one of the choices"),
        (
            CHOICE.format(choices='["sp awn"]', default='"sp awn"'),
            "(knobs[0].choices[0]): must be",
        ),
        (CHOICE.format(choices="[]", default='"x"'), "must be a list of 1 to 16 texts"),
        (CHOICE.format(choices='["a", "a"]', default='"a"'), "the choices must differ"),
        ('\n[[knobs]]\nname = "n"\narg = "--items"\n', "(knobs[0]): missing field default"),
    ],
)
def test_flag_and_choice_knobs_are_checked(lesson_copy: Make, knob: str, expect: str) -> None:
    assert expect in _refused(lesson_copy(_only(knob)))


def test_too_many_knobs(lesson_copy: Make) -> None:
    many = "".join(FLAG.format(default="false").replace('"Fixed"', f'"k{n}"') for n in range(25))
    assert "at most 24 [[knobs]] tables" in _refused(lesson_copy(_only(many)))


def test_a_nesting_bomb_is_refused_before_tomllib(lesson_copy: Make) -> None:
    path = lesson_copy(lambda s: s + "\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    assert "01-basic.toml, line" in _refused(path) and "nested" in _refused(path)


def test_the_program_and_the_text_must_be_plain_small_utf8_files(
    lesson_copy: Make, tmp_path: Path
) -> None:
    path = lesson_copy()
    program = path.with_suffix(".py")
    program.write_bytes(b"print('\xff')\n")
    assert "01-basic.py (the program of 01-basic.toml): is not UTF-8 text" in _refused(path)
    program.write_bytes(b"x = 1\n" * 50_000)
    assert "01-basic.py (the program of 01-basic.toml): is 300,000 bytes" in _refused(path)
    program.unlink()
    os.mkfifo(program)
    assert "is a named pipe, not a file" in _refused(path)
    program.unlink()
    shutil.copy(builtin_path("basic").with_suffix(".py"), program)
    md = path.with_suffix(".md")
    md.unlink()
    assert _refused(path) == "01-basic.toml: its lesson text 01-basic.md is missing"
    if Path("/dev/zero").exists():
        md.symlink_to("/dev/zero")
        assert "01-basic.md (the lesson text of 01-basic.toml): is a character device" in _refused(
            path
        )


def test_a_code_marker_must_name_a_part_of_the_program(lesson_copy: Make) -> None:
    path = lesson_copy()
    md = path.with_suffix(".md")
    md.write_text("# T\n\nSee:\n\n{{code:producer,evil}}\n", encoding="utf-8")
    msg = _refused(path)
    assert msg.startswith("01-basic.md, line 5: {{code:producer,evil}}: the program has no part")
    assert "named 'evil'" in msg and "consumer, main, producer" in msg
    args = '"--items", "--delay", "--work"'
    path.with_suffix(".py").write_text(f"ARGS = [{args}]\ndef f(:\n", encoding="utf-8")
    assert "01-basic.md, line 5: the program is not valid Python" in _refused(path)


def test_code_parts_carry_their_comments_and_the_main_guard() -> None:
    source = (
        "import x\n\n# the queue\nQ = 1\n\n\n@deco\ndef f():\n    return 1\n\n"
        'X.register("a", b)\n\nif __name__ == "__main__":\n    f()\n'
    )
    found = parts(source)
    assert found == {"Q": (3, 4), "f": (7, 9), "X.register": (11, 11), "__main__": (13, 14)}
    shown = render("a\n{{code:Q,__main__}}\nb\n{{code}}\n", source)
    assert shown.startswith('a\n```python\n# the queue\nQ = 1\n\nif __name__ == "__main__":\n')
    assert shown.endswith(f"b\n```python\n{source.rstrip()}\n```\n")


def _qsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qsim", *args], capture_output=True, text=True, timeout=60
    )


def test_validate_and_run_answer_the_same_one_line(lesson_copy: Make) -> None:
    path = lesson_copy(lambda s: s.replace("default = 5", "default = 500"))
    expect = _refused(path)
    for verb in (["validate"], ["run", "--headless"]):
        p = _qsim(*verb, str(path))
        assert p.returncode == 2 and p.stderr.strip() == expect


def test_validate_accepts_a_good_program_lesson(lesson_copy: Make) -> None:
    p = _qsim("validate", str(lesson_copy()))
    assert p.returncode == 0 and "ok (basic: Basic producer/consumer" in p.stdout
