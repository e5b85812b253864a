"""What a token's colour means: its priority in a priority lesson, else its producer.

A lecturer pointing at "the blue ones" needs the audience to know what blue is,
so the key also says whether the diagram should show a legend: always for
priorities, and for producers where several of them feed one queue (two
different items both labelled "4" are told apart by colour, and the legend
says whose colour is whose). No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass

from qsim.model.events import item_origin
from qsim.model.scenario import Scenario
from qsim.model.topology import Topology
from qsim.ui.theme import Theme, priority_colours

BY_PRIORITY, BY_PRODUCER = "priority", "producer"


@dataclass(frozen=True)
class LegendEntry:
    colour: str
    label: str  # drawn on the legend's chip ("P1", "1")
    words: str = ""  # after the chip, muted ("most urgent")


@dataclass(frozen=True)
class ColourKey:
    """Colour of each item, and the legend that explains it."""

    mode: str  # BY_PRIORITY or BY_PRODUCER
    by_producer: dict[int, str]  # producer actor index -> colour
    by_priority: dict[int, str]  # priority value -> colour
    title: str  # the legend's first words ("priority", "made by")
    entries: tuple[LegendEntry, ...]  # empty: no legend is drawn

    def colour(self, item: int, priority: int | None) -> str:
        if self.mode == BY_PRIORITY and priority is not None and priority in self.by_priority:
            return self.by_priority[priority]
        return self.by_producer.get(item_origin(item), self.fallback)

    @property
    def fallback(self) -> str:
        return next(iter(self.by_producer.values()), "#888888")


def colour_key(sc: Scenario, topo: Topology, theme: Theme) -> ColourKey:
    """The key for ``sc``: by priority if its producers give priorities to a
    priority queue, else by producer (legend only where producers share a queue)."""
    producers = [a for a in topo.actors if a.role == "producer"]
    pal = theme.producers
    by_producer = {a.index: pal[n % len(pal)] for n, a in enumerate(producers)}
    prioritised = {q.id for q in sc.queues if q.kind == "PriorityQueue"}
    levels = [p for spec in sc.producers if spec.queue in prioritised for p in spec.priorities]
    if levels:
        by_priority = priority_colours(theme, levels)
        ordered = sorted(by_priority)
        entries = tuple(
            LegendEntry(
                by_priority[p],
                str(p),
                "most urgent" if k == 0 else "least urgent" if k == len(ordered) - 1 else "",
            )
            for k, p in enumerate(ordered)
        )
        return ColourKey(BY_PRIORITY, by_producer, by_priority, "priority", entries)
    feeders: dict[int, int] = {}
    for a in producers:
        feeders[a.output_queue] = feeders.get(a.output_queue, 0) + 1
    shared = any(n > 1 for n in feeders.values())
    entries = ()
    if shared and len(producers) <= len(pal):
        entries = tuple(LegendEntry(by_producer[a.index], a.name) for a in producers)
    return ColourKey(BY_PRODUCER, by_producer, {}, "items made by", entries)
