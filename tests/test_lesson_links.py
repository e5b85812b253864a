"""A lesson text is shown, never obeyed (issue 15, item 7).

Links open only if they are ``https:`` and the student says yes in a box
that asks; any other link is refused with a message; images and style
sheets are never loaded (``![](/dev/zero)`` used to abort the app).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QTextCursor
from PySide6.QtWidgets import QAbstractButton, QMessageBox
from pytestqt.qtbot import QtBot

from qsim.ui.lesson_text import LessonText, link_action

LESSON = """\
# Links

Read [the docs](https://docs.python.org/3/library/multiprocessing.html) first.

Do not open [this file](file:///etc/passwd) or [this page](http://example.org/).

![a picture](/dev/zero) <img src="/dev/zero">
"""


@pytest.mark.parametrize(
    "url, action",
    [
        ("#queues", "anchor"),
        ("https://docs.python.org/3/", "ask"),
        ("HTTPS://example.org/x?y=1#z", "ask"),
        ("http://example.org/", "refuse"),
        ("file:///etc/passwd", "refuse"),
        ("/etc/passwd", "refuse"),
        ("lesson.md", "refuse"),
        ("javascript:alert(1)", "refuse"),
        ("mailto:teacher@example.org", "refuse"),
        ("https:no-host", "refuse"),
        ("vscode://file/etc/passwd", "refuse"),
        ("ssh://example.org", "refuse"),
    ],
)
def test_only_https_links_may_open_and_only_after_asking(url: str, action: str) -> None:
    assert link_action(url)[0] == action


class Opened(QObject):
    """Receives what ``QDesktopServices.openUrl`` would hand to a browser."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url.toString())


@pytest.fixture
def opened() -> Iterator[Opened]:
    """Every scheme's openUrl lands here instead of in another program."""
    handler = Opened()
    schemes = ("https", "http", "file", "mailto")
    for scheme in schemes:
        QDesktopServices.setUrlHandler(scheme, handler, "open")  # type: ignore[arg-type]
    yield handler
    for scheme in schemes:
        QDesktopServices.unsetUrlHandler(scheme)


@pytest.fixture
def lesson(qtbot: QtBot) -> LessonText:
    w = LessonText()
    qtbot.addWidget(w)
    w.resize(500, 400)
    w.markdown = LESSON
    w._render()
    with qtbot.waitExposed(w):
        w.show()
    return w


def _point_of(w: LessonText, href: str) -> QPoint:
    """Where the link to ``href`` is drawn, in viewport coordinates."""
    doc = w.document()
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            if frag.charFormat().anchorHref() == href:
                cursor = QTextCursor(doc)
                cursor.setPosition(frag.position() + frag.length() // 2)
                return w.cursorRect(cursor).center()
            it += 1
        block = block.next()
    raise AssertionError(f"no link to {href}")


def _click_link(qtbot: QtBot, w: LessonText, href: str) -> QMessageBox:
    qtbot.mouseClick(w.viewport(), Qt.MouseButton.LeftButton, pos=_point_of(w, href))
    qtbot.waitUntil(lambda: any(b.isVisible() for b in w.findChildren(QMessageBox)))
    (box,) = [b for b in w.findChildren(QMessageBox) if b.isVisible()]
    return box


def _press(qtbot: QtBot, box: QMessageBox, which: QMessageBox.StandardButton) -> None:
    button = box.button(which)
    assert isinstance(button, QAbstractButton)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not box.isVisible())


def test_an_https_link_asks_first_and_opens_only_on_yes(
    qtbot: QtBot, lesson: LessonText, opened: Opened
) -> None:
    url = "https://docs.python.org/3/library/multiprocessing.html"
    box = _click_link(qtbot, lesson, url)
    assert box.objectName() == "open_link_box"
    assert box.text() == f"Open {url} in your browser?"
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)
    _press(qtbot, box, QMessageBox.StandardButton.No)
    assert opened.urls == []
    box = _click_link(qtbot, lesson, url)
    _press(qtbot, box, QMessageBox.StandardButton.Yes)
    assert opened.urls == [url]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://example.org/"])
def test_other_links_are_refused_with_a_message(
    qtbot: QtBot, lesson: LessonText, opened: Opened, url: str
) -> None:
    box = _click_link(qtbot, lesson, url)
    assert box.objectName() == "link_refused_box"
    assert "qsim opens only https: links" in box.text() and url in box.text()
    _press(qtbot, box, QMessageBox.StandardButton.Ok)
    assert opened.urls == []
    assert lesson.source().isEmpty()  # the browser did not follow it either


def test_images_and_style_sheets_are_not_loaded(lesson: LessonText, tmp_path: Path) -> None:
    picture = tmp_path / "p.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert lesson.loadResource(2, QUrl.fromLocalFile(str(picture))).isEmpty()
    assert not lesson.grab().isNull()  # drawn, with /dev/zero in its text
