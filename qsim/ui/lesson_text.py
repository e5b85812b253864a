"""The lesson text: the scenario's markdown, rendered beside the diagram.

A lesson text may come from any file a student opens, so it is shown, never
obeyed: it loads nothing (an image ``![](/dev/zero)`` would never finish
loading), and a link opens only if it is ``https:`` and the student says yes.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QByteArray, QEvent, Qt, QUrl
from PySide6.QtGui import (
    QDesktopServices,
    QFontDatabase,
    QFontInfo,
    QFontMetricsF,
    QResizeEvent,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
    QTextOption,
)
from PySide6.QtWidgets import QMessageBox, QTextBrowser, QWidget

from qsim.model.measured import with_measured
from qsim.model.scenario import QUEUE_KIND_LABELS, Scenario
from qsim.model.scenario_errors import short
from qsim.ui.theme import MIN_TEXT_PX, MIN_TEXT_PX_PRESENTING


def link_action(url: str) -> tuple[str, str]:
    """What a click on a lesson's link does.

    ``("anchor", name)``: scroll to a place in the text; ``("ask", url)``: an
    ``https:`` link, opened in the browser if the student agrees; ``("refuse",
    why)``: anything else (``file:``, ``http:``, other programs' schemes).
    """
    refuse = f"qsim opens only https: links from a lesson. Not opened: {short(url, 120)}"
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a malformed IPv6 host
        return "refuse", refuse
    if not parts.scheme and not parts.netloc and not parts.path and parts.fragment:
        return "anchor", parts.fragment
    if parts.scheme.lower() == "https" and parts.netloc:
        return "ask", url
    return "refuse", refuse


def demote_headings(markdown: str) -> str:
    """``#`` becomes ``##`` and so on: a dock is too narrow for a page title."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and re.match(r"#{1,5} ", line):
            line = "#" + line
        out.append(line)
    return "\n".join(out)


def lesson_markdown(sc: Scenario) -> str:
    """The lesson text, or (for a scenario without one) a short description of it."""
    if sc.lesson.strip():
        return demote_headings(sc.lesson)
    lines = [f"## {sc.title}", ""]
    if sc.summary:
        lines += [sc.summary, ""]
    for q in sc.queues:
        size = f"maxsize={q.maxsize}" if q.maxsize else "unbounded"
        lines.append(f"- queue **{q.id}**: `{QUEUE_KIND_LABELS.get(q.kind, q.kind)}`, {size}")
    for p in sc.producers:
        lines.append(f"- {p.count} producer(s) **{p.id}** put into `{p.queue}`")
    for c in sc.consumers:
        role = f"stage, forwards to `{c.output}`" if c.output else "consumer"
        lines.append(f"- {c.count} {role} **{c.id}** get from `{c.queue}`")
    lines += ["", "Press **Play** (Space) to run the real processes, **Step** (S) for one "]
    lines[-1] += "queue operation at a time."
    return "\n".join(lines)


class LessonText(QTextBrowser):
    """Read-only markdown view of the current lesson."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lesson_text")
        self.setOpenExternalLinks(False)
        self.setOpenLinks(False)  # we decide: see link_action
        self.anchorClicked.connect(self._on_link)
        # break lines between words only: a name in the code never breaks
        self.setWordWrapMode(QTextOption.WrapMode.WordWrap)
        self._code: list[tuple[int, int, str]] = []
        self._code_px = 0
        self.markdown = "Choose a lesson on the left."
        self.measured: list[str] = []
        self._render()

    def set_scenario(self, sc: Scenario) -> None:
        self.markdown = lesson_markdown(sc)
        self.measured = []
        self._render()

    def show_measured(self, lines: list[str]) -> None:
        """What the run measured (``qsim.model.measured.measured_lines``), shown
        before *What to notice*; the text is redrawn only when they change."""
        if lines == self.measured:
            return
        self.measured = lines
        bar = self.verticalScrollBar()
        at = bar.value()
        self._render()
        bar.setValue(at)

    def _render(self) -> None:
        self._code = []  # (start, end, text) of each code line
        self.setMarkdown(with_measured(self.markdown, self.measured))
        # code gets a fixed size from the markdown reader: follow ours (1.5x to
        # present); a code line may wrap only where it has a space (never inside
        # a name: see ``_fit_code``), continued further right than its own indent
        size = self.font().pointSizeF()
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(size)
        space = QFontMetricsF(mono).horizontalAdvance(" ")
        block = self.document().begin()
        while block.isValid():
            if block.blockFormat().nonBreakableLines():
                text = block.text()
                self._code.append((block.position(), block.position() + block.length() - 1, text))
                hang = (len(text) - len(text.lstrip(" ")) + 4) * space
                bf = block.blockFormat()
                bf.setNonBreakableLines(False)
                bf.setLeftMargin(bf.leftMargin() + hang)
                bf.setTextIndent(-hang)
                QTextCursor(block).setBlockFormat(bf)
            level = block.blockFormat().headingLevel()
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                fmt = frag.charFormat()
                if fmt.hasProperty(QTextFormat.Property.FontPointSize):
                    fmt.clearProperty(QTextFormat.Property.FontPointSize)  # the widget's size
                    if level:  # as big as the rest of the heading (h1 +3 ... h4 +0)
                        fmt.setProperty(QTextFormat.Property.FontSizeAdjustment, 4 - level)
                    cursor = QTextCursor(self.document())
                    cursor.setPosition(frag.position())
                    end = frag.position() + frag.length()
                    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
                    cursor.setCharFormat(fmt)
                it += 1
            block = block.next()
        self._code_px = 0
        self._fit_code()

    def code_px(self) -> int:
        """The pixel size code is drawn with (it may be smaller than the text's)."""
        return self._code_px

    def _fit_code(self) -> None:
        """Code as large as the text, or smaller so that its longest line fits
        the width, but never under the legible minimum (11 px; 18 px when the
        window's letters are presentation-sized). What still does not fit wraps
        at a space; a name too long for a line scrolls, never breaks."""
        body_px = QFontInfo(self.font()).pixelSize()
        floor = MIN_TEXT_PX_PRESENTING if body_px >= MIN_TEXT_PX_PRESENTING else MIN_TEXT_PX
        floor = min(body_px, math.ceil(floor))
        px = body_px
        if self._code:
            mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
            mono.setPixelSize(body_px)
            widest = max(QFontMetricsF(mono).horizontalAdvance(t) for _, _, t in self._code)
            margin = 2 * self.document().documentMargin() + 8
            room = self.viewport().width() - margin
            if widest > room > 0:
                px = max(floor, int(body_px * room / widest))
        if px == self._code_px:
            return
        self._code_px = px
        fmt = QTextCharFormat()
        fmt.setProperty(QTextFormat.Property.FontPixelSize, px)
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        for start, end, _ in self._code:
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(fmt)
        cursor.endEditBlock()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_code()

    def loadResource(self, kind: int, name: QUrl | str) -> Any:
        """Nothing: a lesson's images and style sheets are not loaded from anywhere.

        Empty, not ``None``: for a null answer the document reads the file itself.
        """
        return QByteArray()

    def _on_link(self, url: QUrl) -> None:
        action, what = link_action(url.toString())
        if action == "anchor":
            self.scrollToAnchor(what)
            return
        buttons = QMessageBox.StandardButton
        if action == "refuse":
            box = QMessageBox(
                QMessageBox.Icon.Information, "Link not opened", what, buttons.Ok, self
            )
            box.setObjectName("link_refused_box")
        else:
            box = QMessageBox(
                QMessageBox.Icon.Question,
                "Open link",
                f"Open {short(what, 200)} in your browser?",
                buttons.Yes | buttons.No,
                self,
            )
            box.setObjectName("open_link_box")
            box.setDefaultButton(buttons.No)
            box.buttonClicked.connect(
                lambda button: (
                    box.standardButton(button) == buttons.Yes
                    and QDesktopServices.openUrl(QUrl(what))
                )
            )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._render()
