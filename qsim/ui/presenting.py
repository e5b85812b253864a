"""What presentation mode adds to the window: lines of large type and a
screen free of chrome.

``FitLabel`` shows its text in the largest font, between a floor and a
ceiling, that fits its width; a text too long even at the floor is cut short
with "…" and shown whole in the tooltip, so a line is never clipped and never
shrinks below what the back of a lecture hall can read (the caption is one).
``KeyFigureBar`` shows the lesson's key figure
(``qsim.model.key_figures.key_figure``) for the reducer the window draws.
``PresentationChrome`` hides the menus and the toolbar while presenting and
brings them back while the mouse is at the top edge of the screen.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QEnterEvent, QFont, QFontMetricsF, QResizeEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QSizePolicy, QToolBar, QWidget

from qsim.model.key_figures import key_figure
from qsim.model.scenario import Scenario
from qsim.model.state import Reducer
from qsim.ui.theme import MIN_TEXT_PX, MIN_TEXT_PX_PRESENTING

EDGE_PX = 4  # the strip at the top of the screen that brings the bars back


def line_sizes(presenting: bool, height: int) -> tuple[tuple[float, float], ...]:
    """((floor, ceiling) of the caption, (floor, ceiling) of the key figure) in
    pixels: presenting, in proportion to a window ``height`` pixels high (18 px
    at least on a 1080 px screen); else a little above the window's text."""
    if not presenting:
        return (MIN_TEXT_PX, 15.0), (MIN_TEXT_PX, 14.0)
    floor = max(MIN_TEXT_PX, MIN_TEXT_PX_PRESENTING * height / 1080)
    return (floor, floor * 1.6), (floor, floor * 2.2)


class FitLabel(QLabel):
    """A one-line label whose font fits its width (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None, bold: bool = False) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.bold = bold
        self.min_px = 11
        self.max_px = 15
        self.pad = 10  # left and right, in pixels
        self._px = 0
        self._full = ""
        self._tip = ""
        self.set_sizes(11, 15)

    def set_sizes(self, min_px: float, max_px: float) -> None:
        """The floor and the ceiling of the font, in pixels (the height of the
        line follows the ceiling, so a shorter font never moves what is below)."""
        self.min_px, self.max_px = round(min_px), max(round(min_px), round(max_px))
        self.pad = round(self.max_px * 0.6)
        self.setFixedHeight(round(QFontMetricsF(self._font(self.max_px)).height() * 1.35))
        self._px = 0
        self._fit()

    def setText(self, text: str) -> None:
        if text != self._full:
            self._full = text
            self._fit()

    def text(self) -> str:
        """The whole text (what is shown may be cut short)."""
        return self._full

    def shown_text(self) -> str:
        return super().text()

    def font_px(self) -> int:
        """The pixel size the text is drawn with."""
        return self._px

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _font(self, px: int) -> QFont:
        font = QFont(self.font())
        font.setBold(self.bold)
        font.setPixelSize(px)
        return font

    def _fit(self) -> None:
        room = (self.width() - 2 * self.pad) * 0.97  # rendering may run a little wider
        px = self.max_px
        while (
            px > self.min_px and QFontMetricsF(self._font(px)).horizontalAdvance(self._full) > room
        ):
            px -= 1
        shown = self._full
        metrics = QFontMetricsF(self._font(px))
        if room > 0 and metrics.horizontalAdvance(shown) > room:
            shown = metrics.elidedText(shown, Qt.TextElideMode.ElideRight, room)
        if px != self._px:  # its own style sheet: the window's sets every widget's size
            self._px = px
            weight = "bold" if self.bold else "normal"
            self.setStyleSheet(
                f"font-size: {px}px; font-weight: {weight}; padding: 0px {self.pad}px;"
            )
        if shown != super().text():
            super().setText(shown)
        tip = self._full if shown != self._full else self._tip
        if tip != self.toolTip():
            self.setToolTip(tip)

    def set_tip(self, tip: str) -> None:
        """The tooltip while the whole text is shown."""
        self._tip = tip
        self._fit()


class KeyFigureBar(FitLabel):
    """The lesson's one figure, always on screen; large when presenting."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, bold=True)
        self.setObjectName("key_figure")
        self.set_tip("The figure this lesson is about, as the run goes")

    def show_figure(self, sc: Scenario | None, reducer: Reducer | None, t: int) -> None:
        self.setText(key_figure(sc, reducer, t) if sc is not None else "")


class _TopEdge(QWidget):
    """An invisible strip along the top of the window: entering it brings the
    menus and the toolbar back while presenting."""

    def __init__(self, chrome: PresentationChrome, parent: QWidget) -> None:
        super().__init__(parent)
        self.chrome = chrome
        self.setObjectName("top_edge")
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.hide()

    def enterEvent(self, event: QEnterEvent) -> None:
        self.chrome.show_bars()
        super().enterEvent(event)


class PresentationChrome(QObject):
    """Hides a main window's menu bar and toolbars while presenting; they come
    back while the mouse is at the top edge and go again once it moves down
    into ``centre`` (the diagram). Their shortcuts keep working throughout:
    the actions are added to the window itself."""

    def __init__(self, win: QMainWindow, centre: QWidget) -> None:
        super().__init__(win)
        self.win = win
        self.centre = centre
        self.hidden = False
        self.edge = _TopEdge(self, win)
        centre.installEventFilter(self)

    def _bars(self) -> list[QWidget]:
        bars: list[QWidget] = [self.win.menuBar()]
        return bars + list(self.win.findChildren(QToolBar))

    def hide_bars(self) -> None:
        """Presenting: no menus, no toolbar; the keys still work."""
        self.hidden = True
        for bar in self._bars():
            self.win.addActions(bar.actions())
            for act in bar.actions():
                menu = act.menu()
                if isinstance(menu, QMenu):
                    self.win.addActions([a for a in menu.actions() if not a.isSeparator()])
            bar.hide()
        self._place_edge()

    def show_bars(self) -> None:
        """The bars, back (the mouse at the top edge, or presenting ended)."""
        for bar in self._bars():
            bar.show()
        self.edge.hide()

    def end(self) -> None:
        self.hidden = False
        self.show_bars()

    def _place_edge(self) -> None:
        self.edge.setGeometry(0, 0, self.win.width(), EDGE_PX)
        self.edge.show()
        self.edge.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.hidden and watched is self.centre:
            if event.type() == QEvent.Type.Enter and self.win.menuBar().isVisible():
                for bar in self._bars():
                    bar.hide()
                self._place_edge()
            elif event.type() == QEvent.Type.Resize and not self.win.menuBar().isVisible():
                self._place_edge()  # the window went full screen
        return False
