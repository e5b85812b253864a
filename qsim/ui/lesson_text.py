"""The lesson text: the scenario's markdown, rendered beside the diagram."""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QTextBrowser, QWidget

from qsim.model.scenario import QUEUE_KIND_LABELS, Scenario


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
        self.setOpenExternalLinks(True)
        self.markdown = "Choose a lesson on the left."
        self._render()

    def set_scenario(self, sc: Scenario) -> None:
        self.markdown = lesson_markdown(sc)
        self._render()

    def _render(self) -> None:
        self.setMarkdown(self.markdown)
        # code spans get a fixed size from the markdown reader: follow ours (1.5x to present)
        size = self.font().pointSizeF()
        block = self.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                fmt = frag.charFormat()
                if fmt.fontPointSize() and fmt.fontPointSize() != size:
                    cursor = QTextCursor(self.document())
                    cursor.setPosition(frag.position())
                    cursor.setPosition(
                        frag.position() + frag.length(), QTextCursor.MoveMode.KeepAnchor
                    )
                    fmt.setFontPointSize(size)
                    cursor.setCharFormat(fmt)
                it += 1
            block = block.next()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._render()
