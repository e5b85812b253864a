"""The code view: a traced program's source with a marker per process on its line.

Read-only, monospace, no wrapping, with line numbers. Each process of the
program has a colour (the legend above the code names them); its marker sits
in the gutter on the line it is on at the displayed instant (the reducer's
``line_file``/``line_no``), so a still frame's markers agree with the
diagram. Several processes on one line show several markers. A process that
waits (in get, put, join, or at the pause gate) reports its exact line; a
running one is sampled, or tracked line by line when line tracking is on.

Clicking a process in the legend (or its box in the diagram) shows its line.
"""

from __future__ import annotations

import io
import os
import tokenize

from PySide6.QtCore import QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QIcon,
    QPainter,
    QPaintEvent,
    QPixmap,
    QResizeEvent,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QSplitter,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from qsim.model.entities import ActorState
from qsim.model.state import Reducer
from qsim.ui.theme import OKABE_ITO

#: process colours (the diagram's producer palette, then a few more)
PROCESS_COLOURS = (*OKABE_ITO, "#7F7F7F", "#8C564B", "#1F77B4", "#2CA02C")
MARKERS_SHOWN = 3  # markers drawn side by side on one line; more: "+N"
MAX_SOURCE = 1 << 20  # characters of a source file shown
OUTPUT_SHOWN = 64_000  # characters of the program's output kept in view

Marker = tuple[int, str, str]  # (actor index, name, colour)


def process_colour(index: int) -> str:
    return PROCESS_COLOURS[index % len(PROCESS_COLOURS)]


def read_source(path: str) -> str:
    """The file's text as Python reads it (its coding line), or why it cannot be read."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_SOURCE + 1)
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data[:MAX_SOURCE].decode(encoding, "replace")
    except (OSError, SyntaxError, LookupError) as e:
        return f"# cannot show {path}: {e}"


def dot_icon(colour: str, size: int) -> QIcon:
    """A process's marker, as drawn in the gutter."""
    pix = QPixmap(size * 2, size * 2)
    pix.setDevicePixelRatio(2.0)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setPen(QColor("#000000"))
    p.setBrush(QColor(colour))
    p.drawEllipse(QRectF(1, 1, size - 2, size - 2))
    p.end()
    return QIcon(pix)


def shown_line(a: ActorState) -> tuple[str, int] | None:
    """Where a process's marker goes: alive (or shown hung) and on a known line."""
    if a.line is None or not (a.alive or a.hung):
        return None
    return a.line


class CodeEditor(QPlainTextEdit):
    """The source, with a gutter of line numbers and process markers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("code_editor")
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        #: line number (from 1) -> markers on it, in process order
        self.markers: dict[int, list[Marker]] = {}
        self.gutter = _Gutter(self)
        self.blockCountChanged.connect(self._fit_gutter)
        self.updateRequest.connect(self._on_update_request)
        self._fit_gutter()

    def gutter_width(self) -> int:
        fm = self.fontMetrics()
        digits = len(str(max(1, self.blockCount())))
        marks = MARKERS_SHOWN * (fm.height() + 2) + fm.horizontalAdvance("+9")
        return 8 + fm.horizontalAdvance("9") * max(3, digits) + marks

    def _fit_gutter(self) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _on_update_request(self, rect: QRect, dy: int) -> None:
        if dy:
            self.gutter.scroll(0, dy)
        else:
            self.gutter.update(0, rect.y(), self.gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        cr = self.contentsRect()
        self.gutter.setGeometry(QRect(cr.left(), cr.top(), self.gutter_width(), cr.height()))

    def set_markers(self, markers: dict[int, list[Marker]]) -> None:
        """Show ``markers``: their lines tinted with the first process's colour."""
        if markers == self.markers:
            return
        self.markers = markers
        selections = []
        for line, marks in sorted(markers.items()):
            block = self.document().findBlockByNumber(line - 1)
            if not block.isValid():
                continue
            sel = QTextEdit.ExtraSelection()
            tint = QColor(marks[0][2])
            tint.setAlpha(70)
            sel.format.setBackground(tint)
            sel.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            sel.cursor = QTextCursor(block)
            selections.append(sel)
        self.setExtraSelections(selections)
        self.gutter.update()

    def show_line(self, line: int) -> None:
        """Scroll so that ``line`` (from 1) is in the middle, and put the cursor there."""
        block = self.document().findBlockByNumber(max(0, line - 1))
        if block.isValid():
            self.setTextCursor(QTextCursor(block))
            self.centerCursor()

    def paint_gutter(self, event: QPaintEvent) -> None:
        p = QPainter(self.gutter)
        pal = self.palette()
        p.fillRect(event.rect(), pal.alternateBase())
        fm = self.fontMetrics()
        size = fm.height() - 2
        digits_w = 4 + fm.horizontalAdvance("9") * max(3, len(str(max(1, self.blockCount()))))
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        while block.isValid() and top <= event.rect().bottom():
            h = round(self.blockBoundingRect(block).height())
            if block.isVisible() and top + h >= event.rect().top():
                n = block.blockNumber() + 1
                p.setPen(pal.placeholderText().color())
                p.drawText(
                    QRect(0, top, digits_w, h),
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                    str(n),
                )
                x = digits_w + 6
                marks = self.markers.get(n, [])
                for _, _name, colour in marks[:MARKERS_SHOWN]:
                    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                    p.setPen(QColor("#000000"))
                    p.setBrush(QColor(colour))
                    p.drawEllipse(QRectF(x, top + (h - size) / 2, size, size))
                    x += size + 2
                if len(marks) > MARKERS_SHOWN:
                    p.setPen(pal.text().color())
                    p.drawText(
                        QRect(x, top, fm.horizontalAdvance("+99"), h),
                        Qt.AlignmentFlag.AlignVCenter,
                        f"+{len(marks) - MARKERS_SHOWN}",
                    )
            block = block.next()
            top += h
        p.end()


class _Gutter(QWidget):
    def __init__(self, editor: CodeEditor) -> None:
        super().__init__(editor)
        self.editor = editor
        self.setObjectName("code_gutter")

    def sizeHint(self) -> QSize:
        return QSize(self.editor.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self.editor.paint_gutter(event)


class CodeView(QWidget):
    """The program's files, the process legend, the markers and its output.

    Signals
    -------
    tracking_changed(bool)
        the user switched line tracking (every line, not only samples) on or off.
    """

    tracking_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("code_view")
        self.path = ""  # the program's main file
        self.file = ""  # the file shown
        self.sources: dict[str, str] = {}
        self.recorded = False  # the sources are a recording's
        self.actor_lines: dict[int, tuple[str, int]] = {}
        self.chips: dict[int, QToolButton] = {}
        self._chip_text: dict[int, str] = {}
        self._output_len = -1

        self.notes = QLabel(self)
        self.notes.setObjectName("code_notes")
        self.notes.setWordWrap(True)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notes.hide()
        self.legend = QWidget(self)
        self.legend.setObjectName("code_legend")
        self._legend_lay = _FlowRow(self.legend)
        self.files = QComboBox(self)
        self.files.setObjectName("code_files")
        self.files.setToolTip("The program's file shown (a process may be in another)")
        self.files.currentTextChanged.connect(self._on_file_chosen)
        self.track = QCheckBox("Track every line", self)
        self.track.setObjectName("code_track_lines")
        self.track.setToolTip(
            "On: each process reports every line of the program it runs "
            "(sys.monitoring on Python 3.12+, sys.settrace before), which slows "
            "a busy program down. Off: a waiting or paused process still shows "
            "its exact line; a running one is sampled 20 times a second."
        )
        self.track.toggled.connect(self.tracking_changed)
        self.editor = CodeEditor(self)
        self.output = QPlainTextEdit(self)
        self.output.setObjectName("program_output")
        self.output.setReadOnly(True)
        self.output.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.output.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.output.setPlaceholderText("What the program prints appears here.")
        self.output.setMaximumBlockCount(2000)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.files, 1)
        top.addWidget(self.track)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.editor)
        split.addWidget(self.output)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addWidget(self.notes)
        lay.addWidget(self.legend)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        self.editor.setPlainText(
            "# Open a Python program: File > Open Python program… (Ctrl+Shift+O)"
        )

    # ------------------------------------------------------------ program
    def set_program(self, path: str, recorded: dict[str, str] | None = None) -> None:
        """Show ``path`` (no markers until the program runs); ``recorded``: a
        recording's texts of the program's files, as they ran (no file is read)."""
        self.path = path
        self.sources = dict(recorded or {})
        self.recorded = recorded is not None
        self.files.blockSignals(True)
        self.files.clear()
        self.files.addItem(os.path.basename(path), path)
        self.files.blockSignals(False)
        self.files.setVisible(False)
        self._show_file(path)
        self.clear_run()

    def clear_run(self) -> None:
        """A new run: no markers, no legend, no output, no notes."""
        self.actor_lines = {}
        for chip in self.chips.values():
            chip.deleteLater()
        self.chips, self._chip_text = {}, {}
        self.editor.set_markers({})
        self.output.clear()
        self._output_len = -1
        self.set_notes([])

    def _show_file(self, path: str) -> None:
        if path == self.file:
            return
        self.file = path
        if path not in self.sources:
            self.sources[path] = (
                f"# {path}: its text is not in the recording"
                if self.recorded
                else read_source(path)
            )
        self.editor.markers = {}
        self.editor.setPlainText(self.sources[path])
        idx = self.files.findData(path)
        if idx >= 0 and idx != self.files.currentIndex():
            self.files.blockSignals(True)
            self.files.setCurrentIndex(idx)
            self.files.blockSignals(False)
        self._mark()

    def _on_file_chosen(self, _text: str) -> None:
        path = self.files.currentData()
        if isinstance(path, str):
            self._show_file(path)

    def set_notes(self, notes: list[str]) -> None:
        """Plain-words messages about the run (it hung, it crashed, no queue...)."""
        self.notes.setText("\n".join(notes))
        self.notes.setVisible(bool(notes))

    # ------------------------------------------------------------ frames
    def update_from(self, r: Reducer) -> None:
        """Markers and legend for the state ``r`` shows (the displayed instant)."""
        lines: dict[int, tuple[str, int]] = {}
        for a in r.actors:
            where = shown_line(a)
            if where is not None:
                lines[a.index] = where
        for a in r.actors:
            if a.line is not None or a.index in self.chips:
                self._chip(a, lines.get(a.index))
        for gone in [i for i in self.chips if i >= len(r.actors)]:  # a replay went back
            chip = self.chips.pop(gone)
            self._legend_lay.layout.removeWidget(chip)
            chip.hide()
            chip.deleteLater()
            self._chip_text.pop(gone, None)
        if lines == self.actor_lines:
            return
        self.actor_lines = lines
        for path, _ in lines.values():
            if self.files.findData(path) < 0:
                self.files.addItem(os.path.basename(path), path)
                self.files.setVisible(self.files.count() > 1)
        self._mark(r)

    def _mark(self, r: Reducer | None = None) -> None:
        markers: dict[int, list[Marker]] = {}
        for ai, (path, line) in sorted(self.actor_lines.items()):
            if path == self.file:
                name = self.chips[ai].property("process") if ai in self.chips else str(ai)
                markers.setdefault(line, []).append((ai, str(name), process_colour(ai)))
        self.editor.set_markers(markers)

    def _chip(self, a: ActorState, where: tuple[str, int] | None) -> None:
        chip = self.chips.get(a.index)
        if chip is None:
            chip = QToolButton(self.legend)
            chip.setObjectName(f"code_chip_{a.index}")
            chip.setAutoRaise(True)
            chip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            chip.setIcon(dot_icon(process_colour(a.index), chip.fontMetrics().height()))
            chip.clicked.connect(lambda _=False, i=a.index: self.show_actor(i))
            self.chips[a.index] = chip
            self._legend_lay.add(chip)
            chip.show()
        chip.setProperty("process", a.name)
        line = f"line {where[1]}" if where else a.state
        text = f"{a.name}  {line}"
        if text != self._chip_text.get(a.index):
            self._chip_text[a.index] = text
            chip.setText(text)
            chip.setToolTip(f"{a.name}: {a.state}; click to show its line")

    def show_actor(self, index: int) -> bool:
        """Scroll to the line process ``index`` is on (its file shown); False if none."""
        where = self.actor_lines.get(index)
        if where is None:
            return False
        path, line = where
        if self.files.findData(path) < 0:
            self.files.addItem(os.path.basename(path), path)
            self.files.setVisible(self.files.count() > 1)
        self._show_file(path)
        self.editor.show_line(line)
        chip = self.chips.get(index)
        if chip is not None:
            chip.setFocus()
        return True

    def markers_on(self, line: int) -> list[str]:
        """Names of the processes whose marker is on ``line`` of the file shown."""
        return [name for _, name, _ in self.editor.markers.get(line, [])]

    def set_output(self, text: str) -> None:
        """What the program printed so far (its stdout, then its stderr)."""
        if len(text) == self._output_len:
            return
        self._output_len = len(text)
        self.output.setPlainText(text[-OUTPUT_SHOWN:])
        self.output.moveCursor(QTextCursor.MoveOperation.End)


class _FlowRow:
    """Chips left to right, wrapping onto more rows when the dock is narrow."""

    def __init__(self, owner: QWidget) -> None:
        from qsim.ui.flow_layout import FlowLayout

        self.layout = FlowLayout(owner)
        owner.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def add(self, w: QWidget) -> None:
        self.layout.addWidget(w)
