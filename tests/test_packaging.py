"""The packaged app, as a student gets it: build it, unpack it, install it, run it.

Builds ``dist/`` with ``packaging/build.sh`` (or reuses a build newer than
every source file), then runs the bundle with no Python on ``PATH``, on the
offscreen platform: the self-test, a screenshot of the real window, a killed
app whose workers must leave too, the .tar.gz and the .deb.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from procwait import wait_gone

from qsim import __version__

pytestmark = [
    pytest.mark.slow,
    # one build in dist/, and they count the bundle's processes: never beside
    # another test (a second xdist worker rebuilt dist/ under a running app)
    pytest.mark.alone,
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        not sys.platform.startswith("linux"),
        reason="builds the Linux packages; other systems build in packaging/ci/build.yml",
    ),
]

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
APP_DIR = DIST / "qsim"
APP = APP_DIR / "qsim"
SOURCES = ("qsim", "resources", "packaging", "pyproject.toml")
# extraction filters came with 3.11.4 (and 3.12 warns without one): use one where it exists
TAR_FILTER: dict[str, str] = {"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}


def _newest_source() -> float:
    newest = 0.0
    for top in SOURCES:
        p = ROOT / top
        files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()]
        for f in files:
            if "__pycache__" not in f.parts:
                newest = max(newest, f.stat().st_mtime)
    return newest


def _built(fresh: bool = True) -> dict[str, object] | None:
    """dist/build-info.json if the build there is complete (and started after
    the last change to any source file, when ``fresh``)."""
    info_file = DIST / "build-info.json"
    if not (APP.is_file() and info_file.is_file()):
        return None
    info: dict[str, object] = json.loads(info_file.read_text())
    parts = [APP, ROOT / str(info["tar_gz"])]
    if shutil.which("dpkg-deb"):
        parts.append(ROOT / str(info["deb"]))
    if info["version"] != __version__ or not all(p.is_file() for p in parts):
        return None
    if fresh and float(str(info.get("started_at", 0))) < _newest_source():
        return None
    return info


class _Build:
    """The module's one build: its info, or why it failed (said once)."""

    def __init__(self) -> None:
        self.info: dict[str, object] | None = _built()
        self.error = ""
        self.reported = False
        if self.info is None:
            self._run()

    def _run(self) -> None:
        # NO_INSTALL: a test downloads nothing; `make setup` installed PyInstaller
        env = {**os.environ, "PYTHON": sys.executable, "NO_INSTALL": "1"}
        if not shutil.which("dpkg-deb"):
            env["SKIP_DEB"] = "1"
        p = subprocess.run(
            ["bash", str(ROOT / "packaging" / "build.sh")],
            capture_output=True,
            text=True,
            env=env,
            timeout=800,
        )
        if p.returncode != 0:
            # build.sh and PyInstaller end with the cause: the last line says it
            tail = p.stderr.strip().splitlines()[-15:] or ["(no output)"]
            more = ["", *tail] if len(tail) > 1 else []
            self.error = "packaging/build.sh failed: " + "\n".join([tail[-1], *more])
            return
        self.info = _built(fresh=False)  # sources may change while it builds
        if self.info is None:
            self.error = "packaging/build.sh did not produce everything:\n" + p.stdout[-2000:]


@pytest.fixture(scope="module")
def _one_build() -> _Build:
    return _Build()


@pytest.fixture
def build(_one_build: _Build) -> dict[str, object]:
    """The built app; if the build failed, the first test says why and the
    others point to it (one cause, told once)."""
    b = _one_build
    if b.info is None:
        if not b.reported:
            b.reported = True
            pytest.fail(b.error, pytrace=False)
        pytest.fail(
            "the build failed: see the first error in tests/test_packaging.py", pytrace=False
        )
    return b.info


def _student_env(home: Path) -> dict[str, str]:
    """No venv, no Python on PATH, no display: what the bundle must cope with."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_RUNTIME_DIR": str(home),
    }


def _bundle_processes(app_dir: Path) -> dict[int, str]:
    """Processes running a binary inside ``app_dir``: pid -> command line."""
    found = {}
    inside = str(app_dir.resolve()) + os.sep
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            exe = os.readlink(d / "exe")
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (d / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if state != "Z" and (exe.startswith(inside) or cmd.startswith(inside)):
            found[int(d.name)] = cmd.strip()
    return found


def _wait_until(
    cond: Callable[[], object], timeout: float, what: str, app: subprocess.Popen[bytes]
) -> None:
    """Check ``cond`` each time the app makes progress or 50 ms pass (waiting on
    the app's own pidfd: it ends the wait at once if the app dies meanwhile)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline or app.poll() is not None:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        wait_gone([app.pid], 0.05)


def _assert_no_bundle_process_left(app_dir: Path) -> None:
    left: dict[int, str] = {}

    def gone() -> bool:
        left.clear()
        left.update(_bundle_processes(app_dir))
        return not left

    wait_gone(_bundle_processes(app_dir), 5)
    gone()
    assert left == {}, f"processes of the app outlived it: {left}"


# ------------------------------------------------------------------ tests
def test_bundle_self_test_passes_with_workers_that_are_the_bundle(
    build: dict[str, object], tmp_path: Path
) -> None:
    p = subprocess.run(
        [str(APP), "--self-test"],
        capture_output=True,
        text=True,
        env=_student_env(tmp_path),
        cwd=tmp_path,
        timeout=180,
    )
    *lessons, summary = (json.loads(line) for line in p.stdout.splitlines())
    failed = {x["lesson"]: x["problems"] for x in lessons if not x["ok"]}
    assert failed == {}, p.stderr
    assert p.returncode == 0
    assert summary["ok"] and summary["frozen"] and summary["version"] == __version__
    resources = APP_DIR / "_internal" / "resources"
    shipped = [*(resources / "scenarios").glob("*.toml"), *(resources / "programs").glob("*.toml")]
    assert len(lessons) == len(shipped) > 0
    # every worker process is the app's own binary: no Python needed
    assert {e for x in lessons for e in x["worker_exe"]} == {str(APP.resolve())}
    assert all(x["workers"] >= 1 for x in lessons)
    assert "lessons passed" in p.stderr and "all passed" in p.stderr
    _assert_no_bundle_process_left(APP_DIR)


def test_bundle_takes_a_shot_of_the_real_window(build: dict[str, object], tmp_path: Path) -> None:
    if not (ROOT / "qsim" / "ui" / "shot.py").is_file():
        pytest.skip("qsim.ui.shot does not exist yet: no `qsim shot` to run from the bundle")
    out = tmp_path / "shot.png"
    p = subprocess.run(
        [str(APP), "shot", "backpressure", "--after", "1.5", "-o", str(out)],
        capture_output=True,
        text=True,
        env=_student_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    from PySide6.QtGui import QImage

    img = QImage(str(out))
    assert (img.width(), img.height()) == (1280, 720)
    colours = {img.pixel(x, y) for x in range(0, 1280, 16) for y in range(0, 720, 16)}
    assert len(colours) > 20, "the window looks blank"
    _assert_no_bundle_process_left(APP_DIR)


def test_bundle_renders_a_gif_and_says_how_to_get_mp4(
    build: dict[str, object], tmp_path: Path
) -> None:
    """The app exports GIF with the Pillow it bundles; the 170 MB GPL ffmpeg that
    MP4 needs is an optional extra, not in the bundle, and the app says so."""
    assert not list((APP_DIR / "_internal").glob("imageio_ffmpeg*"))
    out = tmp_path / "clip.gif"
    p = subprocess.run(
        [str(APP), "render", "put-timeout", "-o", str(out), "--size", "320x240", "--fps", "5"],
        capture_output=True,
        text=True,
        env=_student_env(tmp_path),
        cwd=tmp_path,
        timeout=180,
    )
    assert p.returncode == 0, p.stderr
    from PIL import Image

    with Image.open(out) as im:
        assert im.size == (320, 240) and im.n_frames >= 5
    p = subprocess.run(
        [str(APP), "render", "put-timeout", "-o", str(tmp_path / "clip.mp4")],
        capture_output=True,
        text=True,
        env=_student_env(tmp_path),
        cwd=tmp_path,
        timeout=60,
    )
    assert p.returncode == 2 and "pip install 'qsim[video]'" in p.stderr
    _assert_no_bundle_process_left(APP_DIR)


def test_workers_leave_when_the_app_is_killed(build: dict[str, object], tmp_path: Path) -> None:
    app = subprocess.Popen(
        [str(APP), "run", "backpressure", "--headless", "--speed", "0.3", "--duration", "60"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_student_env(tmp_path),
        cwd=tmp_path,
    )
    try:
        _wait_until(
            lambda: len(_bundle_processes(APP_DIR)) >= 3,  # the app and 2 workers
            30,
            "the app's worker processes",
            app,
        )
        workers = set(_bundle_processes(APP_DIR)) - {app.pid}
        app.send_signal(signal.SIGKILL)  # no chance to clean up
        app.wait(10)
        left = wait_gone(workers, 10)
        assert not left, f"workers {sorted(left)} did not notice their app is gone"
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
    _assert_no_bundle_process_left(APP_DIR)


def test_tarball_unpacks_and_runs_anywhere(build: dict[str, object], tmp_path: Path) -> None:
    tarball = ROOT / str(build["tar_gz"])
    assert tarball.name == f"qsim-{__version__}-linux-x86_64.tar.gz"
    assert tarball.stat().st_size < 120e6, "the download must stay under 120 MB"
    with tarfile.open(tarball) as tar:
        tar.extractall(tmp_path / "unpacked", **TAR_FILTER)
    app = tmp_path / "unpacked" / "qsim" / "qsim"
    env = _student_env(tmp_path)
    p = subprocess.run([str(app), "--version"], capture_output=True, text=True, env=env)
    assert p.stdout.strip() == f"qsim {__version__}"
    p = subprocess.run([str(app), "list"], capture_output=True, text=True, env=env)
    assert p.returncode == 0 and "basic" in p.stdout
    p = subprocess.run(
        [str(app), "run", "backpressure", "--headless", "--json", "--speed", "10"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    report = json.loads(p.stdout)
    assert report["accounting"]["processed"] == 12 and report["start_method"] == "spawn"
    # a program lesson: its program, run by the app's own Python, traced
    p = subprocess.run(
        [str(app), "run", "basic", "--headless", "--json", "--speed", "10"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    report = json.loads(p.stdout)
    assert report["lesson"] == "basic" and report["finished"], p.stderr
    assert report["queues"]["q"]["gets"] == 6  # 'item 1' to 'item 5', then 'DONE'
    assert report["exit_codes"] == {"main": 0, "producer": 0, "consumer": 0}
    assert "consumer got 'DONE'" in report["stdout"]


def test_bundle_holds_only_the_qt_it_needs(build: dict[str, object]) -> None:
    internal = APP_DIR / "_internal"
    bound = {p.name.split(".")[0] for p in (internal / "PySide6").glob("Qt*.so")}
    assert {"QtCore", "QtGui", "QtWidgets"} <= bound
    assert not bound & {"QtQml", "QtQuick", "QtNetwork", "QtSql", "QtTest", "QtDesigner"}
    plugins = internal / "PySide6" / "Qt" / "plugins"
    assert (plugins / "platforms" / "libqxcb.so").is_file()  # X11 desktops
    assert (plugins / "platforms" / "libqwayland.so").is_file()  # Wayland desktops
    assert (plugins / "platforms" / "libqoffscreen.so").is_file()  # this test
    assert not (plugins / "platformthemes" / "libqgtk3.so").exists()
    assert (internal / "resources" / "icons").is_dir()


@pytest.mark.skipif(not shutil.which("dpkg"), reason="needs dpkg (Debian or Ubuntu)")
def test_deb_installs_and_removes_cleanly(build: dict[str, object], tmp_path: Path) -> None:
    deb = ROOT / str(build["deb"])
    assert deb.name == f"qsim_{__version__}_amd64.deb"
    # a private dpkg database: installs into tmp_path, not into this machine
    root = tmp_path / "root"
    for d in ("info", "updates", "triggers"):
        (root / "var" / "lib" / "dpkg" / d).mkdir(parents=True)
    (root / "var" / "lib" / "dpkg" / "status").touch()
    dpkg = ["dpkg", f"--root={root}", "--force-not-root", "--force-depends"]
    p = subprocess.run([*dpkg, "-i", str(deb)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    shipped = [
        "opt/qsim/qsim",
        "usr/share/applications/qsim.desktop",
        "usr/share/icons/hicolor/256x256/apps/qsim.png",
    ]
    for f in shipped:
        assert (root / f).is_file(), f
    assert os.readlink(root / "usr" / "bin" / "qsim") == "/opt/qsim/qsim"
    desktop = (root / "usr/share/applications/qsim.desktop").read_text()
    assert "Exec=qsim\n" in desktop and "Icon=qsim\n" in desktop
    # started through a symlink, as /usr/bin/qsim is
    link = tmp_path / "qsim-link"
    link.symlink_to(root / "opt" / "qsim" / "qsim")
    p = subprocess.run([str(link), "--version"], capture_output=True, text=True)
    assert p.stdout.strip() == f"qsim {__version__}"

    p = subprocess.run([*dpkg, "-r", "qsim"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    left = [
        str(f.relative_to(root))
        for f in root.rglob("*")
        if not f.is_dir() and "var/lib/dpkg" not in str(f.relative_to(root))
    ]
    assert left == [], "dpkg -r left files behind"


def test_bundle_traces_a_stdlib_program_with_its_own_python(
    build: dict[str, object], tmp_path: Path
) -> None:
    prog = tmp_path / "one_to_one.py"
    shutil.copy(ROOT / "tests" / "programs" / "one_to_one.py", prog)
    p = subprocess.run(
        [str(APP), "trace", str(prog), "spawn", "5", "--headless", "--json"],
        capture_output=True,
        text=True,
        env=_student_env(tmp_path),
        cwd=tmp_path,
        timeout=180,
    )
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert report["queues"]["q"]["puts"] == report["queues"]["q"]["gets"] == 6
    assert report["events_emitted"] == report["events_received"]
    assert report["exit_codes"] == {"main": 0, "producer": 0, "consumer": 0}
    assert json.loads(report["stdout"])["sentinel"] == "DONE"
    _assert_no_bundle_process_left(APP_DIR)
