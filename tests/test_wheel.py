"""The lessons ship inside the wheel and are found from an installed copy."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent


def test_every_qsim_package_is_listed_for_the_wheel() -> None:
    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(REPO).parts)
        for p in (REPO / "qsim").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.alone  # setuptools builds in the checkout's build/, as PyInstaller does
def test_installed_wheel_finds_the_builtin_lessons(tmp_path: Path) -> None:
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            # nothing from an index: setuptools is the venv's own (the dev extra)
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert build.returncode == 0, build.stderr
    wheel = next((tmp_path / "dist").glob("qsim-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "qsim/_resources/scenarios/02-backpressure.toml" in names
    for ext in ("toml", "md", "py"):  # a program lesson: its metadata, text and program
        assert f"qsim/_resources/programs/01-basic.{ext}" in names
    assert "qsim/_resources/icons/qsim.png" in names
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(target)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import qsim.resources as r; print(r.resources_dir()); "
            "print(' '.join(r.builtin_ids())); print(r.load_program('basic').program)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    where, ids, program = out.stdout.splitlines()
    assert where.startswith(str(target)), "must use the wheel's copy, not the checkout's"
    assert {"basic", "backpressure"} <= set(ids.split())
    assert program == f"{where}/programs/01-basic.py"
