"""The lesson list: the built-in lessons by title, with a search box.

Scenario lessons and program lessons (a real program, traced) share one list,
in lesson order; a program lesson's tooltip names the file that runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from qsim.model.program_lesson import load_program_lesson
from qsim.model.scenario_io import ScenarioError, load_scenario
from qsim.resources import is_program_path, lesson_paths

ID_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class LessonEntry:
    """One line of the list: a built-in lesson (or a broken file, shown as such)."""

    id: str
    title: str
    summary: str
    path: str
    broken: str = ""  # the ScenarioError text when the file does not load
    program: str = ""  # a program lesson: the file that runs (``01-basic.py``)

    @property
    def tooltip(self) -> str:
        if self.broken:
            return self.broken
        tip = self.summary or self.title
        if self.program:
            tip += f"\n\nA real Python program, {self.program}: qsim traces it as it runs."
        return tip

    @property
    def search_text(self) -> str:
        return f"{self.id} {self.title} {self.summary}".lower()


def builtin_lessons() -> list[LessonEntry]:
    """Every built-in lesson in order; a broken file is listed with its error."""
    out = []
    for n, path in enumerate(lesson_paths(), start=1):
        program = is_program_path(path)
        try:
            lesson = load_program_lesson(path) if program else load_scenario(path)
        except ScenarioError as e:
            out.append(LessonEntry(path.stem, f"{path.stem} (broken)", "", str(path), str(e)))
            continue
        runs = path.with_suffix(".py").name if program else ""
        out.append(
            LessonEntry(lesson.id, f"{n}. {lesson.title}", lesson.summary, str(path), "", runs)
        )
    return out


class LessonList(QWidget):
    """A filterable list of lessons; ``lesson_chosen(id)`` when one is activated."""

    lesson_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setObjectName("lesson_search")
        self.search.setPlaceholderText("Search lessons…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Type to filter the lessons by title, id or summary")
        self.list = QListWidget(self)
        self.list.setObjectName("lesson_list")
        self.list.setWordWrap(True)
        self.list.setToolTip("Double-click or press Enter to open a lesson")
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.search)
        lay.addWidget(self.list)
        self.entries = builtin_lessons()
        for e in self.entries:
            item = QListWidgetItem(e.title)
            item.setData(ID_ROLE, e.id)
            item.setToolTip(e.tooltip)
            if e.broken:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.list.addItem(item)
        self.search.textChanged.connect(self._on_search)
        self.list.itemActivated.connect(self._on_activated)
        self.list.itemClicked.connect(self._on_activated)

    def titles(self, visible_only: bool = True) -> list[str]:
        """The titles shown (the ones the filter leaves, by default)."""
        items = (self.list.item(i) for i in range(self.list.count()))
        return [it.text() for it in items if not (visible_only and it.isHidden())]

    def select(self, lesson_id: str) -> None:
        """Highlight ``lesson_id`` without emitting ``lesson_chosen``."""
        for i in range(self.list.count()):
            it = self.list.item(i)
            if it.data(ID_ROLE) == lesson_id:
                self.list.blockSignals(True)
                self.list.setCurrentItem(it)
                self.list.blockSignals(False)
                return
        self.list.clearSelection()

    def _on_search(self, text: str) -> None:
        words = text.lower().split()
        for i, e in enumerate(self.entries):
            self.list.item(i).setHidden(not all(w in e.search_text for w in words))

    def _on_activated(self, item: QListWidgetItem) -> None:
        lesson_id = item.data(ID_ROLE)
        if lesson_id:
            self.lesson_chosen.emit(str(lesson_id))
