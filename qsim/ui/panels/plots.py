"""Live time plots over a ``PanelHistory``: follow the last 60 s, scroll back, export.

Plots are pyqtgraph ``PlotItem``s fed from the history's rings. Each refresh
hands every curve only the samples in view (plus a margin), so a refresh costs
the same after an hour as after a minute; clip-to-view and peak downsampling
stay on for a wide zoom-out. Dragging or zooming a plot stops following the
live end until "Follow live" is pressed. The right-click menu exports PNG
(pyqtgraph's ``ImageExporter``; its SVG exporter fails with Qt 6.11) and CSV
(written here from the rings).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QResizeEvent
from PySide6.QtWidgets import QFileDialog, QWidget

from qsim.ui.panels.history import STATE_NAMES, PanelHistory
from qsim.ui.theme import MIN_TEXT_PX, MIN_TEXT_PX_PRESENTING, Theme

VISIBLE_S = 60.0
PAGE_S = 5.0  # a followed view moves on by this much at a time
#: line colours (Okabe-Ito, then greys): told apart by colour, dash and legend
LINE_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
#: on a dark background: the light Okabe-Ito hues first
LINE_COLOURS_DARK = ("#56B4E9", "#E69F00", "#009E73", "#CC79A7", "#F0E442", "#D55E00", "#FFFFFF")
DASHES = (None, [4, 3], [1, 3], [6, 2, 1, 2])


def line_pen(n: int, theme: Theme, width: float = 2.0) -> pg.QtGui.QPen:
    """The n-th series' pen: a colour, then a dash pattern once colours run out."""
    colours = LINE_COLOURS_DARK if theme.name.startswith("dark") else LINE_COLOURS
    colour = colours[n % len(colours)]
    pen = pg.mkPen(colour, width=width)
    dash = DASHES[(n // len(LINE_COLOURS)) % len(DASHES)]
    if dash:
        pen.setDashPattern(dash)
    return pen


def plot_font_px(theme: Theme, font_pt: float) -> int:
    """A plot's letters in pixels: ``font_pt`` (at 96 dpi), never below the
    smallest legible text (presenting, 18 px; else 11 px)."""
    floor = MIN_TEXT_PX_PRESENTING if theme.font_scale > 1 else MIN_TEXT_PX
    return max(math.ceil(floor), round(font_pt * 96 / 72))


def style_plot(plot: pg.PlotItem, theme: Theme, font_pt: float) -> None:
    """Axis colours and fonts of a plot for a theme."""
    font = QFont()
    px = plot_font_px(theme, font_pt)
    font.setPixelSize(px)
    for name in ("left", "bottom"):
        ax = plot.getAxis(name)
        ax.setPen(pg.mkPen(theme.muted))
        ax.setTextPen(pg.mkPen(theme.text))
        ax.setTickFont(font)
        ax.label.setFont(font)
    title = getattr(plot, "qsim_title", "")
    if title:
        plot.setTitle(title, color=theme.text, size=f"{px}px")


def new_plot(
    layout: pg.GraphicsLayout, title: str, y_label: str, row: int, col: int
) -> pg.PlotItem:
    """A time plot at (row, col) of ``layout``."""
    plot = layout.addPlot(row=row, col=col, title=title or None)
    plot.qsim_title = title
    plot.setClipToView(True)
    plot.setDownsampling(auto=True, mode="peak")
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setLabel("left", y_label)
    plot.hideButtons()  # the "A" auto-range button: "Follow live" replaces it
    plot.setMenuEnabled(True)
    for name in ("left", "bottom"):
        ax = plot.getAxis(name)
        # no "(x1e3)" relabelling: it rewrites the label's HTML on every scroll
        ax.enableAutoSIPrefix(False)
        # major ticks only: minor ticks and their grid lines cost ~3x the paint
        ax.setStyle(maxTickLevel=0)
    vb = plot.getViewBox()
    vb.setLimits(xMin=0)
    vb.setMouseEnabled(x=True, y=False)
    vb.enableAutoRange(axis="y")
    return plot


class LiveFollow(QObject):
    """The shared x range of x-linked plots: the last ``VISIBLE_S`` seconds, or
    wherever the user scrolled to (then ``following`` is False)."""

    following_changed = Signal(bool)
    range_changed = Signal()

    def __init__(self, master: pg.PlotItem, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.master = master
        self.following = True
        self._setting = False
        self._last_set = (-1.0, -1.0)
        vb = master.getViewBox()
        vb.sigRangeChangedManually.connect(self.stop_following)
        vb.sigXRangeChanged.connect(self._on_x_changed)

    def stop_following(self, *_: object) -> None:
        """The user dragged or zoomed a plot: stay where they are."""
        if self.following:
            self.following = False
            self.following_changed.emit(False)

    def _on_x_changed(self, *_: object) -> None:
        if not self._setting:
            self.range_changed.emit()

    def follow(self) -> None:
        self.following = True
        self._last_set = (-1.0, -1.0)
        self.following_changed.emit(True)

    def x_range(self, latest: float) -> tuple[float, float]:
        if self.following:
            # the view jumps ahead a page at a time rather than creeping every
            # refresh: unchanged axes keep their cached drawing (a third of the
            # cost of a refresh), and the last 60 s stay in view
            hi = max(PAGE_S, math.ceil(latest / PAGE_S + 1e-9) * PAGE_S)
            return max(0.0, hi - VISIBLE_S - PAGE_S), hi
        lo, hi = self.master.getViewBox().viewRange()[0]
        return float(lo), float(hi)

    def apply(self, latest: float) -> tuple[float, float]:
        """Move the view to the live end if following; return the range to feed."""
        lo, hi = self.x_range(latest)
        if self.following and (lo, hi) != self._last_set:
            self._last_set = (lo, hi)
            self._setting = True
            try:
                self.master.setXRange(lo, hi, padding=0)
            finally:
                self._setting = False
        return lo, hi


class CurveSet:
    """Curves of one plot, each fed from a named series of the history."""

    def __init__(self, plot: pg.PlotItem, history: PanelHistory) -> None:
        self.plot = plot
        self.history = history
        self.curves: dict[str, pg.PlotDataItem] = {}

    def set_series(self, specs: Sequence[tuple[str, str, pg.QtGui.QPen]]) -> None:
        """``(series name, legend label, pen)`` per curve; replaces the old ones."""
        for c in self.curves.values():
            self.plot.removeItem(c)
        self.curves = {}
        self.labels: list[tuple[str, pg.QtGui.QPen]] = []
        for name, label, pen in specs:
            item = self.plot.plot([], [], pen=pen)
            item.setClipToView(True)
            item.setDownsampling(auto=True, method="peak")
            self.curves[name] = item
            self.labels.append((label, pen))

    def legend_html(self) -> str:
        """The legend as rich text for a wrapping label under the plot (it can
        never cover a curve): a line sample in the curve's colour and dash."""
        parts = []
        for label, pen in self.labels:
            dashed = pen.style() != Qt.PenStyle.SolidLine
            sample = "╍╍╍" if dashed else "━━━"
            parts.append(
                f'<span style="white-space:nowrap"><span style="color:{pen.color().name()}">'
                f"{sample}</span>&nbsp;{label}</span>"
            )
        return " &nbsp; ".join(parts)

    def feed(self, i0: int, i1: int) -> None:
        xs = self.history.x.values(i0, i1)
        for name, item in self.curves.items():
            ring = self.history.series.get(name)
            if ring is None or not len(xs):
                item.setData([], [])
                continue
            item.setData(xs, ring.values(i0, i1))


def add_export_actions(
    plot: pg.PlotItem, on_png: Callable[[], None], on_csv: Callable[[], None]
) -> None:
    """Put "Export PNG…" and "Export CSV…" into the plot's right-click menu
    (instead of pyqtgraph's export dialog, whose SVG export fails on Qt 6.11)."""
    vb = plot.getViewBox()
    menu = vb.menu
    if menu is None:
        return
    menu.addSeparator()
    png = QAction("Export PNG…", menu)
    png.triggered.connect(on_png)
    menu.addAction(png)
    csv_action = QAction("Export CSV…", menu)
    csv_action.triggered.connect(on_csv)
    menu.addAction(csv_action)
    scene = plot.scene()
    if scene is not None:
        scene.contextMenu = []


def hide_scene_export(widget: pg.GraphicsView) -> None:
    """Drop pyqtgraph's own "Export..." entry from a view's context menus."""
    scene = widget.scene()
    if scene is not None:
        scene.contextMenu = []


def export_png(item: pg.GraphicsObject | pg.GraphicsLayout, path: str | Path) -> Path:
    """Write ``item`` (a plot or a whole layout) as a PNG with ``ImageExporter``."""
    exporter = ImageExporter(item)
    exporter.parameters()["background"] = QColor("#FFFFFF")
    exporter.export(str(path))
    return Path(path)


def export_csv(path: str | Path, history: PanelHistory, names: Sequence[str]) -> Path:
    """Write the kept samples of ``names`` (series; ``state:<actor>`` for the
    worker-state rows) as CSV, one row per sample, oldest first."""
    xs = history.x.values()
    cols: list[np.ndarray] = []
    header = ["t_s"]
    labels = history.reducer.topology.names if history.reducer is not None else []
    for name in names:
        if name.startswith("state:"):
            idx = int(name.split(":", 1)[1])
            ring = history.states.get(idx)
            header.append(f"state {labels[idx] if idx < len(labels) else idx}")
        else:
            ring = history.series.get(name)
            header.append(name)
        cols.append(ring.values() if ring is not None else np.full(len(xs), np.nan))
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for i in range(len(xs)):
            row = [f"{xs[i]:.3f}"]
            for name, col in zip(names, cols, strict=True):
                v = col[i]
                if name.startswith("state:"):
                    row.append(STATE_NAMES[int(v)])
                else:
                    row.append("" if np.isnan(v) else f"{float(v):.6g}")
            w.writerow(row)
    return Path(path)


def ask_path(parent: QWidget, title: str, suggested: str, pattern: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested, pattern)
    return path


class SinglePlot(QWidget):
    """One live time plot with its legend below it and PNG/CSV export.

    With ``follow`` given, the plot's x axis is linked to that shared range
    (and dragging it stops following for all); else it has its own range and
    (unless ``follow_button`` is False) its own "Follow live" button.
    """

    def __init__(
        self,
        history: PanelHistory,
        theme: Theme,
        y_label: str,
        file_stem: str,
        parent: QWidget | None = None,
        title: str = "",
        follow: LiveFollow | None = None,
        follow_button: bool = True,
    ) -> None:
        from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton

        from qsim.ui.panels.widgets import plot_area

        super().__init__(parent)
        self.history = history
        self.file_stem = file_stem
        self.area = plot_area(theme, self)
        self.plot = new_plot(self.area.ci, title, y_label, 0, 0)
        self.curves = CurveSet(self.plot, history)
        self.legend = QLabel(self)
        self.legend.setWordWrap(True)
        self.legend.hide()
        self.follow_button: QPushButton | None = None
        if follow is None:
            follow = LiveFollow(self.plot, self)
            follow.range_changed.connect(self.refresh)
            if follow_button:
                button = self.follow_button = QPushButton("Follow live", self)
                button.clicked.connect(follow.follow)
                button.clicked.connect(self.refresh)
                button.hide()
                follow.following_changed.connect(lambda on: button.setVisible(not on))
        else:
            self.plot.setXLink(follow.master)
            self.plot.getViewBox().sigRangeChangedManually.connect(follow.stop_following)
        self.follow = follow
        self.export_item: pg.GraphicsObject | pg.GraphicsLayout = self.plot
        add_export_actions(self.plot, self._ask_png, self._ask_csv)
        self.csv_names: list[str] | None = None  # None: the curves' series
        self._legend_html = ""
        self.legend_beside = False
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(2)
        self.grid.addWidget(self.area, 0, 0)
        self.grid.setRowStretch(0, 1)
        self.grid.setColumnStretch(0, 1)
        self._place_legend()
        if self.follow_button is not None:
            self.grid.addWidget(self.follow_button, 2, 0, Qt.AlignmentFlag.AlignRight)

    def set_series(self, specs: Sequence[tuple[str, str, pg.QtGui.QPen]]) -> None:
        self.curves.set_series(specs)
        self.set_legend(self.curves.legend_html() if len(specs) > 1 else "")

    def set_legend(self, html: str) -> None:
        """The legend: one line of entries under the plot, or (a wide, short plot)
        a column beside it, so that the plot keeps its x axis in a low dock."""
        self._legend_html = html
        self._show_legend()
        self.legend.setVisible(bool(html))

    def _show_legend(self) -> None:
        html = self._legend_html
        if self.legend_beside:  # one entry a line
            html = html.replace(" &nbsp; ", "<br>")
        self.legend.setText(html)

    def _place_legend(self) -> None:
        self.grid.removeWidget(self.legend)
        if self.legend_beside:
            self.grid.addWidget(self.legend, 0, 1, Qt.AlignmentFlag.AlignVCenter)
        else:
            self.grid.addWidget(self.legend, 1, 0)
        self._show_legend()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        beside = self.width() >= 3 * self.height() and self.width() >= 560
        if beside != self.legend_beside:
            self.legend_beside = beside
            self._place_legend()

    def refresh(self) -> None:
        lo, hi = self.follow.apply(self.history.x.last(0.0))
        i0, i1 = self.history.window(lo, hi)
        self.curves.feed(i0, i1)

    def set_theme(self, theme: Theme, font_pt: float) -> None:
        self.area.setBackground(theme.panel)
        style_plot(self.plot, theme, font_pt)

    def _ask_png(self) -> None:
        path = ask_path(self, "Export the plot", self.file_stem + ".png", "PNG (*.png)")
        if path:
            export_png(self.export_item, path)

    def _ask_csv(self) -> None:
        path = ask_path(self, "Export the plot's data", self.file_stem + ".csv", "CSV (*.csv)")
        if path:
            self.export_csv(path)

    def export_csv(self, path: str) -> None:
        names = self.csv_names if self.csv_names is not None else list(self.curves.curves)
        export_csv(path, self.history, names)
