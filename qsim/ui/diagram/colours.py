"""What a token's colour means: its priority in a priority lesson, else its producer.

A lecturer pointing at "the blue ones" needs the audience to know what blue is,
so the key also says whether the diagram should show a legend: always for
priorities, and for producers where several of them feed one queue (two
different items both labelled "4" are told apart by colour, and the legend
says whose colour is whose). No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qsim.model.events import item_origin
from qsim.model.scenario import Scenario
from qsim.model.topology import Topology
from qsim.ui.theme import Theme, priority_colours

BY_PRIORITY, BY_PRODUCER = "priority", "producer"
NEUTRAL = "#9E9E9E"  # an item whose priority is not known yet


@dataclass(frozen=True)
class LegendEntry:
    colour: str
    label: str  # drawn on the legend's chip ("P1", "1")
    words: str = ""  # after the chip, muted ("most urgent")


@dataclass
class ColourKey:
    """Colour of each item, and the legend that explains it."""

    mode: str  # BY_PRIORITY or BY_PRODUCER
    by_producer: dict[int, str]  # producer actor index -> colour
    by_priority: dict[int, str]  # priority value -> colour
    title: str  # the legend's first words ("priority", "made by")
    entries: tuple[LegendEntry, ...]  # empty: no legend is drawn
    #: priorities seen: an item keeps its colour once got (the queue forgets it)
    seen: dict[int, int] = field(default_factory=dict)

    def remember(self, item: int, priority: int | None) -> int | None:
        """``priority`` if known, else what the item had when it was put."""
        if self.mode != BY_PRIORITY:
            return priority
        if priority is None:
            return self.seen.get(item)
        if len(self.seen) > 100_000:
            self.seen.clear()
        self.seen[item] = priority
        return priority

    def colour(self, item: int, priority: int | None) -> str:
        if self.mode == BY_PRIORITY:
            # not put yet: its priority is not known
            return self.by_priority.get(priority, NEUTRAL) if priority is not None else NEUTRAL
        return self.by_producer.get(item_origin(item), NEUTRAL)


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
