"""Does a frame contradict itself? The checker the tests run on every frame.

A still frame must tell one story: the state of the run at the displayed
instant. For every queue, the tokens drawn inside its box, the count its label
shows and the reducer's depth must agree; every actor's label must be the
reducer's state; the status bar's "items done" must be what the diagram's
consumers say they finished; the caption must not describe a state that no
longer holds. ``check_frame`` lists every disagreement in words (none: the
frame is consistent); the window can draw them as a debug overlay
(Ctrl+Shift+F12).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from qsim.model import state as S
from qsim.ui.diagram.animator import IN_QUEUE
from qsim.ui.diagram.hover import state_text

if TYPE_CHECKING:
    from qsim.ui.main_window import MainWindow

_NUMBER = re.compile(r"^(\d+)")
#: how far (scene units, under a pixel) from a queue's door a token still is on it
DOOR = 0.5


def label_depth(right: str, left: str) -> int:
    """The depth a queue's labels say: ``"2/2 full"``, ``"5 in queue"``, ``"empty"``
    (the fill, which counts every item) and ``"+N more"`` (beyond the slots)."""
    if right == "empty":
        return 0
    m = _NUMBER.match(right)
    return int(m.group(1)) if m else -1


def check_frame(win: MainWindow) -> list[str]:
    """Every way the frame ``win`` shows now contradicts itself (empty: none)."""
    session, view = win.session, win.diagram
    r = session.reducer
    animator = view.animator
    if r is None or animator is None or view.layout_ is None or view.reducer is not r:
        return []
    problems: list[str] = []
    drawn = animator.drawn()
    for qi, (qbox, qitem) in enumerate(zip(view.layout_.queues, view.queue_items, strict=True)):
        q = r.queues[qi]
        row = qbox.row
        placed_tokens = [
            t
            for t in animator.placed.values()
            if t.place is not None and t.place[0] == IN_QUEUE and t.place[1] == qi
            if t.place[2] < qbox.slots
        ]
        placed = [t.item for t in placed_tokens]
        # the row's edges are its doors: a token on one is going in or out (a
        # flight to a door eases in: paused just before its end, a token sits a
        # hundredth of a unit short of the door, and is on it)
        x0, x1, y0, y1 = row.x, row.x + row.w, row.y, row.y + row.h
        inside = [
            t.item
            for t in drawn
            if x0 + DOOR < t.x < x1 - DOOR
            and y0 <= t.y <= y1
            and t.opacity > 0.05
            and t.place is None
        ]
        inside += [t.item for t in placed_tokens if x0 - DOOR <= t.x <= x1 + DOOR]
        more = max(0, q.depth - qbox.slots)
        said = label_depth(qitem.right, qitem.left)
        if said != q.depth:
            problems.append(f"{q.id}: its label says {qitem.right!r}, the run says {q.depth}")
        if len(placed) + more != q.depth:
            problems.append(
                f"{q.id}: {len(placed)} tokens in its slots and {more} more,"
                f" the run says {q.depth}"
            )
        if not q.overflow:
            stray = sorted(set(placed) - set(q.contents))
            if stray:
                problems.append(f"{q.id}: tokens drawn in its slots for items not in it: {stray}")
        if sorted(inside) != sorted(placed):
            extra = sorted(set(inside) - set(placed))
            missing = sorted(set(placed) - set(inside))
            problems.append(
                f"{q.id}: drawn inside its box but not in it: {extra}; "
                f"in it but drawn outside: {missing}"
            )
    for ai, item in view.actor_items.items():
        want = state_text(r.actors[ai])
        if item.label != want:
            problems.append(f"{r.actors[ai].name}: labelled {item.label!r}, the run says {want!r}")
    done_text = win.status.items.text()
    m = re.search(r"items done (\d+)", done_text)
    if m and int(m.group(1)) != r.acct.consumed:
        problems.append(f"status bar says {done_text!r}, the run says {r.acct.consumed} done")
    caption = win.caption.text()
    for a in r.actors:
        if caption.startswith(f"{a.name} is blocked in put()") and a.state != S.BLOCKED_PUT:
            problems.append(f"caption {caption!r} but {a.name} is {a.state}")
        if caption.startswith(f"{a.name} waits in get()") and a.state != S.WAITING_GET:
            problems.append(f"caption {caption!r} but {a.name} is {a.state}")
    return problems
