"""How wide a token is, in one place for the layout and the painter (no Qt here).

A lesson's token shows a number: it is a fixed ``NARROW`` token heights wide.
A traced program's token shows the repr of the real object (up to 16
characters, ``qsim.model.traced.token_label``), so its body is as wide as its
label. The layout makes queue slots, hands and the corridors tokens fly along
as wide as the widest label the run has shown so far (``label_em``: its width
in em of the label's font), grown in steps (``em_class``) so that a run is
laid out again rarely: usually once, when its first object is put.
"""

from __future__ import annotations

import math

NARROW = 1.12  # a lesson token's body width, in token heights
LABEL = 0.5  # a traced token's label size, in token heights (legible: see fitting)
PAD = 0.45  # room beside a traced token's label (both sides together), in token heights
SAFETY = 1.02  # a label measured at one size is a little wider at another (hinting)
#: label widths (em) a layout makes room for: 4 holds 'DONE', None, 'STOP' and
#: three digits; a 16-character repr needs about 8-10 (room to spare costs
#: legibility: every slot of a queue has it)
EM_STEPS = (4.0, 5.5, 7.0)
EM_STEP_AFTER = 1.0


def label_px(token: float) -> float:
    """The pixel size (scene units) of a traced token's label."""
    return float(math.floor(token * LABEL))


def body_width(em: float, token: float) -> float:
    """A traced token's body width for a label ``em`` wide (at least a lesson token's)."""
    return max(NARROW * token, em * label_px(token) * SAFETY + PAD * token)


def em_class(em: float) -> float:
    """The label width a layout makes room for when labels up to ``em`` are shown."""
    for step in EM_STEPS:
        if em <= step:
            return step
    return EM_STEPS[-1] + EM_STEP_AFTER * math.ceil((em - EM_STEPS[-1]) / EM_STEP_AFTER)
