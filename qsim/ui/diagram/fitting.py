"""How big the diagram's letters and tokens are: legible once fitted into the view.

The smallest text must be ``min_px`` on screen (11 px; presenting, 18 px on a
1080 px high screen) and a token tall enough for a three-digit label at that
size. The diagram does not shrink its letters to fit: it is laid out again
with larger fonts and tokens (and, if need be, fewer queue slots) until,
fitted into the view, they are legible. Larger letters make a wider scene,
which is then drawn smaller, so the screen pixels per scene unit that still
hold the letters are found by bisection; where even the largest letters cannot
be had (a crowd of workers in a small window) the best that fits is used.
"""

from __future__ import annotations

import math
from functools import lru_cache

from PySide6.QtCore import QSize
from PySide6.QtGui import QFontInfo, QFontMetricsF
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSimpleTextItem, QGraphicsTextItem

from qsim.model.scenario import Scenario
from qsim.model.topology import Topology
from qsim.ui.diagram.actors import MIN_FONT, make_font
from qsim.ui.diagram.colours import ColourKey
from qsim.ui.diagram.layout import Layout, compute_layout
from qsim.ui.diagram.token_width import LABEL, label_px
from qsim.ui.theme import Theme

MAX_ZOOM = 1.35  # at 1280 px wide; scaled up on wider views (not when presenting)
#: a token is at least this many times the smallest text tall: its label fits
TOKEN_PER_TEXT = 2.5  # three digits fit at the smallest letters
SLOT_CHOICES = (12, 8, 6)  # slots a queue shows at most: fewer when letters need room
WIDE_SLOT_CHOICES = (3, 2)  # and then, for a traced program's tokens (as wide as reprs)
SCALE_STEP = 0.05  # font and token scales are rounded up to this (fewer re-layouts)


@lru_cache(maxsize=256)
def text_width(text: str, px: float, bold: bool) -> float:
    return QFontMetricsF(make_font(px, bold)).horizontalAdvance(text)


def step_up(scale: float) -> float:
    return math.ceil(scale / SCALE_STEP - 1e-9) * SCALE_STEP


def fit_scale(lay: Layout, vp: QSize, presenting: bool) -> float:
    """The scale that fits the whole scene into ``vp`` (a small diagram is not
    blown up past MAX_ZOOM, more on a bigger screen; presenting, it fills)."""
    scale = min(vp.width() / lay.rect.w, vp.height() / lay.rect.h)
    if not presenting:
        scale = min(scale, MAX_ZOOM * max(1.0, vp.width() / 1280))
    return max(0.05, scale)


def legible_layout(
    topo: Topology,
    sc: Scenario,
    theme: Theme,
    key: ColourKey | None,
    vp: QSize,
    min_px: float,
    presenting: bool,
    label_em: float = 0.0,
) -> tuple[float, float, Layout]:
    """Font and token scales (at least ``theme``'s) at which, fitted into ``vp``,
    the smallest text is ``min_px`` and tokens are tall enough for their labels
    (a traced program's: ``label_em`` wide, at least ``min_px`` high); and the
    layout at those scales (see the module docstring)."""
    legend = [(e.label, e.words) for e in key.entries] if key is not None else []
    title = f"{key.title}:" if key is not None else ""
    view = (float(vp.width()), float(vp.height()))

    def at(unit: float, slots: int) -> tuple[float, float, Layout, bool]:
        """The layout whose letters are legible at ``unit`` px per scene unit."""
        fs = max(theme.font_scale, step_up(min_px / (MIN_FONT * unit)))
        if label_em:  # a traced program's token: as wide as its label, as tall as it needs
            ts = max(theme.token_scale, step_up(min_px / (22.0 * LABEL * unit)))
        else:  # a lesson's: its number fits its width
            ts = max(theme.token_scale, step_up(TOKEN_PER_TEXT * min_px / (22.0 * unit)))
        lay = compute_layout(topo, sc, fs, ts, text_width, legend, title, view, slots, label_em)
        s = fit_scale(lay, vp, presenting)
        if label_em:
            tall = label_px(lay.token) * s >= min_px - 1e-6
        else:
            tall = lay.token * s >= TOKEN_PER_TEXT * min_px - 1e-6
        ok = make_font(MIN_FONT * fs).pixelSize() * s >= min_px - 1e-6 and tall
        return fs, ts, lay, ok

    best = at(1e9, SLOT_CHOICES[0])  # the theme's own scales
    if best[3]:
        return best[:3]
    top = fit_scale(best[2], vp, presenting)
    low = best
    for slots in SLOT_CHOICES + (WIDE_SLOT_CHOICES if label_em else ()):
        lo, hi = top / 6, top
        low = at(lo, slots)
        if not low[3]:  # not to be had with this many slots
            continue
        best = low
        for _ in range(9):
            mid = math.sqrt(lo * hi)
            trial = at(mid, slots)
            if trial[3]:
                lo, best = mid, trial
            else:
                hi = mid
        return best[:3]
    return low[:3]  # not to be had in this view: the biggest letters tried


def scene_text_sizes(scene: QGraphicsScene, scale: float) -> list[tuple[str, str, float]]:
    """Every text in ``scene`` as ``(what, text, pixels on screen)``: the font
    size each item draws with (its ``texts()``, for the diagram's own painting),
    times the view's ``scale`` (the legibility check)."""
    out: list[tuple[str, str, float]] = []
    for item in scene.items():
        what = type(item).__name__
        if isinstance(item, QGraphicsTextItem):
            out.append((what, item.toPlainText(), QFontInfo(item.font()).pixelSize() * scale))
        elif isinstance(item, QGraphicsSimpleTextItem):
            out.append((what, item.text(), QFontInfo(item.font()).pixelSize() * scale))
        texts = getattr(item, "texts", None)
        if callable(texts):
            out += [(what, text, px * scale) for text, px in texts()]
    return out
