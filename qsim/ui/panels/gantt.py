"""The worker-state timeline: one row per actor, coloured spans like a Gantt chart.

Each history sample holds, per actor, the state it spent most of the last
~100 ms in (working, blocked on put, waiting on get, idle, ...), worked out
from the reducer's time counters, so the chart agrees with the reported
working / blocked / waiting seconds. The visible window is resampled onto a
regular grid and drawn as one ``ImageItem`` with a colour lookup table: the
cost does not grow with the number of spans or the length of the run.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from qsim.ui.panels import history as H
from qsim.ui.panels.history import PanelHistory
from qsim.ui.theme import Theme, is_dark

MAX_COLUMNS = 1200
#: state code -> colour (Okabe-Ito hues, light and dark variants for idle/finished)
STATE_COLOURS_LIGHT = {
    H.S_NONE: "#00000000",
    H.S_IDLE: "#D9D9D9",
    H.S_WORKING: "#009E73",
    H.S_BLOCKED: "#D55E00",
    H.S_WAITING: "#56B4E9",
    H.S_JOIN: "#CC79A7",
    H.S_DONE: "#F2F2F2",
    H.S_CRASHED: "#000000",
}
STATE_COLOURS_DARK = {
    **STATE_COLOURS_LIGHT,
    H.S_IDLE: "#4A4F57",
    H.S_DONE: "#2A2E35",
    H.S_CRASHED: "#FFFFFF",
}
LEGEND = (H.S_WORKING, H.S_BLOCKED, H.S_WAITING, H.S_JOIN, H.S_IDLE, H.S_CRASHED)


def state_colours(theme: Theme) -> dict[int, str]:
    return STATE_COLOURS_DARK if is_dark(theme) else STATE_COLOURS_LIGHT


def lut(theme: Theme) -> np.ndarray:
    colours = state_colours(theme)
    out = np.zeros((len(H.STATE_NAMES), 4), dtype=np.uint8)
    for code, hexa in colours.items():
        c = pg.mkColor(hexa)
        out[code] = (c.red(), c.green(), c.blue(), c.alpha())
    return out


def legend_html(theme: Theme) -> str:
    colours = state_colours(theme)
    parts = [f'<span style="color:{colours[c]}">■</span>&nbsp;{H.STATE_NAMES[c]}' for c in LEGEND]
    return " &nbsp; ".join(parts)


class StateTimeline:
    """The timeline drawn into ``plot`` from a history's state rings."""

    def __init__(self, plot: pg.PlotItem, history: PanelHistory, theme: Theme) -> None:
        self.plot = plot
        self.history = history
        self.image = pg.ImageItem(axisOrder="col-major")
        plot.addItem(self.image)
        plot.getViewBox().enableAutoRange(axis="y", enable=False)
        plot.setMouseEnabled(x=True, y=False)
        plot.showGrid(x=False, y=False)
        self.rows: list[int] = []  # actor indexes, top row first
        self.latest: dict[int, int] = {}  # actor -> code of its newest sample
        self.set_theme(theme)

    def set_theme(self, theme: Theme) -> None:
        self._lut = lut(theme)

    def set_rows(self, actors: list[int], names: list[str]) -> None:
        self.rows = actors
        n = len(actors)
        ticks = [(n - 1 - k + 0.5, names[a]) for k, a in enumerate(actors)]
        self.plot.getAxis("left").setTicks([ticks, []])
        self.plot.setYRange(0, max(1, n), padding=0)

    def feed(self, lo: float, hi: float) -> None:
        h = self.history
        i0, i1 = h.window(lo, hi)
        xs = h.x.values(i0, i1)
        n = len(self.rows)
        if not len(xs) or not n or hi <= lo:
            self.image.clear()
            return
        cols = int(min(MAX_COLUMNS, max(1, (hi - lo) / (h.sample_ns / 1e9))))
        step = (hi - lo) / cols
        centres = lo + (np.arange(cols) + 0.5) * step
        # a sample's state covers the time since the previous sample: a grid
        # column takes the first sample at or after its centre
        idx = np.searchsorted(xs, centres, "left")
        beyond = idx >= len(xs)
        idx[beyond] = len(xs) - 1
        img = np.zeros((cols, n), dtype=np.uint8)
        self.latest = {}
        for k, actor in enumerate(self.rows):
            ring = h.states.get(actor)
            if ring is None:
                continue
            codes = ring.values(i0, i1)
            if len(codes) != len(xs):
                continue
            col = codes[idx]
            col[beyond] = H.S_NONE
            img[:, n - 1 - k] = col
            self.latest[actor] = int(codes[-1])
        # colours looked up here (exact), not by ImageItem's level scaling
        self.image.setImage(self._lut[img], autoLevels=False, levels=(0, 255))
        self.image.setRect(QRectF(lo, 0, hi - lo, n))
