"""Pieces of the layout (no Qt): which column each actor and queue goes in,
actors spread level with the queues they use, and the legend's flow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qsim.model.scenario import Scenario
from qsim.model.topology import Topology

Measure = Callable[[str, float, bool], float]  # (text, pixel size, bold) -> width

MARGIN = 18.0
MIN_FONT = 11.0  # the smallest font at scale 1 (as ``actors.MIN_FONT``)


@dataclass(frozen=True)
class LegendSpot:
    """One piece of the legend: a coloured chip with its label and words after
    it, or (``title``) the legend's first words."""

    x: float
    y: float
    w: float  # the chip's width (the title's text width)
    h: float
    label: str
    words: str = ""
    title: bool = False


def main_runs(sc: Scenario) -> bool:
    """The tutorial's main process is a real actor only if it sends sentinels,
    joins a queue, or starts and joins its producers itself."""
    return bool(sc.main.sentinels or sc.main.join or sc.main.join_producers_first)


def queue_levels(topo: Topology) -> list[int]:
    """Distance of each queue from the producers (stages add one each)."""
    level = [0] * len(topo.queues)
    for _ in range(len(topo.queues) + 1):
        changed = False
        for a in topo.actors:
            if a.role == "stage" and a.input_queue >= 0 and a.output_queue >= 0:
                want = level[a.input_queue] + 1
                if level[a.output_queue] < want <= len(topo.queues):
                    level[a.output_queue] = want
                    changed = True
        if not changed:
            break
    return level


@dataclass
class Columns:
    """Which actors and queues go in which column (before any sizes)."""

    actors: dict[int, list[int]]
    queues: dict[int, list[int]]
    count: int


def columns(topo: Topology) -> Columns:
    level = queue_levels(topo)
    actor_cols: dict[int, list[int]] = {}
    for a in topo.actors:
        if a.role == "producer":
            col = 0
        elif a.role in ("consumer", "stage") and a.input_queue >= 0:
            col = 2 + 2 * level[a.input_queue]
        else:
            continue
        actor_cols.setdefault(col, []).append(a.index)

    def key(i: int) -> tuple[int, int]:  # within a column: by the queue used, then index
        a = topo.actors[i]
        return (a.output_queue if a.role == "producer" else a.input_queue, i)

    for members in actor_cols.values():
        members.sort(key=key)
    queue_cols: dict[int, list[int]] = {}
    for qi, lv in enumerate(level):
        queue_cols.setdefault(1 + 2 * lv, []).append(qi)
    return Columns(actor_cols, queue_cols, max([*actor_cols, *queue_cols, 2]) + 1)


def extra_lines(sc: Scenario) -> frozenset[str]:
    """Queues that may need a second line of text under them (unfinished tasks,
    queue.Full or queue.Empty raised, a measured lane's speed, the feeder buffers
    and pipe of a watched queue): only they get
    room for it."""
    out = {q.id for q in sc.queues if q.kind == "JoinableQueue" or q.internals}
    if sc.run.measure_plain:
        out |= {p.queue for p in sc.producers}
    out |= {p.queue for p in sc.producers if p.put_timeout > 0}
    out |= {c.queue for c in sc.consumers if c.get_timeout > 0}
    return frozenset(out)


def legend_spots(
    entries: tuple[tuple[str, str], ...],
    title: str,
    width: float,
    fs: float,
    token: float,
    measure: Measure,
) -> tuple[list[LegendSpot], float]:
    """The legend's pieces flowed left to right from the top left corner,
    wrapping at ``width``; returns them and the height they take."""
    if not entries:
        return [], 0.0
    margin = MARGIN * fs
    font = MIN_FONT * fs
    chip_h = max(token * 0.9, font * 1.5)
    line = chip_h + 6.0 * fs
    x, y = margin, margin
    spots = [LegendSpot(x, y, measure(title, font, False), chip_h, title, "", True)]
    x += spots[0].w + 10.0 * fs
    for label, words in entries:
        chip = max(token * 1.12, measure(label, font, True) + font)
        w = chip + (6.0 * fs + measure(words, font, False) if words else 0.0)
        if x + w > width - margin and x > margin + spots[0].w + 10.0 * fs + 1:
            x, y = margin + spots[0].w + 10.0 * fs, y + line
        spots.append(LegendSpot(x, y, chip, chip_h, label, words))
        x += w + 14.0 * fs
    return spots, y + line - margin


def spread(wanted: list[float], size: float, gap: float, top: float) -> list[float]:
    """Tops of boxes of height ``size`` in order, each as near as it can be to
    its wanted centre without overlapping the one before, none above ``top``."""
    out: list[float] = []
    for k, centre in enumerate(wanted):
        y = centre - size / 2
        if k:
            y = max(y, out[-1] + size + gap)
        out.append(max(y, top))
    # pushed down by a crowd: lift them all, as far as ``top`` lets them, so
    # that on average they are where they want to be
    if out:
        over = sum(o + size / 2 - c for o, c in zip(out, wanted, strict=True)) / len(out)
        lift = min(over, min(o - top for o in out))
        if lift > 0:
            out = [o - lift for o in out]
    return out
