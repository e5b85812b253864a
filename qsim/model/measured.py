"""Figures a lesson measures once and shows beside its text (no Qt, no processes).

Workers report them as ``MARK`` events (``qsim.model.lessons.mark``);
``measured_lines`` turns a run's marks and state into the short lines the
lesson text shows under *Measured in this run*:

* the serialization lesson's ``pickle.dumps`` size and time of a simple and a
  complex message (the messages are defined here, so that the lesson text can
  show exactly what was measured), measured by a producer before its lane;
* a lane with a fixed number of items: items, puts, and the time from the
  producer's first put to the consumer's last finished item (batching);
* what a consumer reported about its payloads: bytes through the queue per
  item and the most memory its objects took at once (pitfall-large-objects),
  with its items/s.
"""

from __future__ import annotations

import pickle
import re
import time
from collections.abc import Callable

from qsim.model.lessons import mark, mark_figures, sink_rate
from qsim.model.scenario import Scenario
from qsim.model.state import FINISHED, Reducer

#: rounds of the pickle timing; the best is reported (as ``timeit`` advises)
PICKLE_ROUNDS = 5
PICKLE_ROUND_NS = 2_000_000  # a round lasts at least this long


def simple_message() -> dict[str, object]:
    """The serialization lesson's simple message (its text shows this code)."""
    return {"id": 1, "text": "hello"}


def complex_message() -> dict[str, object]:
    """The serialization lesson's complex message (its text shows this code)."""
    return {
        "id": 1,
        "values": [i * 0.5 for i in range(1000)],
        "names": {f"key{i}": str(i) for i in range(100)},
        "rows": [(i, f"row {i}", i % 2 == 0) for i in range(100)],
    }


def time_per_call_us(call: Callable[[], object]) -> float:
    """Microseconds one ``call()`` takes: the best of ``PICKLE_ROUNDS`` rounds,
    each repeating it often enough to last ``PICKLE_ROUND_NS``."""
    clock = time.perf_counter_ns
    number = 1
    while True:  # find a repeat count long enough to time
        t0 = clock()
        for _ in range(number):
            call()
        spent = clock() - t0
        if spent >= PICKLE_ROUND_NS or number >= 1 << 20:
            break
        number *= 2
    best = spent
    for _ in range(PICKLE_ROUNDS - 1):
        t0 = clock()
        for _ in range(number):
            call()
        best = min(best, clock() - t0)
    return best / number / 1e3


def pickle_marks() -> list[str]:
    """``MARK`` texts: size (bytes) and time (µs) of ``pickle.dumps`` of each message."""
    out = []
    for name, make in (("simple", simple_message), ("complex", complex_message)):
        msg = make()
        size = len(pickle.dumps(msg))
        us = time_per_call_us(lambda msg=msg: pickle.dumps(msg))  # type: ignore[misc]
        out += [mark(f"pickle_{name}_bytes", size), mark(f"pickle_{name}_us", round(us, 3))]
    return out


def _us(x: float) -> str:
    return f"{x:.3g} µs" if x < 1000 else f"{x / 1000:.3g} ms"


def _pickle_lines(fig: dict[str, float]) -> list[str]:
    out = []
    for name in ("simple", "complex"):
        size, us = fig.get(f"pickle_{name}_bytes"), fig.get(f"pickle_{name}_us")
        if size is not None and us is not None:
            out.append(f"`pickle.dumps({name}_msg)`: {int(size):,} bytes in {_us(us)}")
    return out


def _lane_lines(sc: Scenario, r: Reducer, fig: dict[str, float]) -> list[str]:
    """A lane with a fixed item count, once its consumer has finished."""
    out = []
    topo = r.topology
    for p in sc.producers:
        first_us = fig.get(f"{p.id}.first_put_us")
        if not p.items or first_us is None:
            continue
        qi = topo.queue_index(p.queue)
        readers = [a for a in topo.actors if a.input_queue == qi]
        writers = [a for a in topo.actors if a.output_queue == qi and a.group == p.id]
        if len(readers) != 1 or len(writers) != 1:
            continue
        c, pr = r.actors[readers[0].index], r.actors[writers[0].index]
        if c.state != FINISHED or not c.last_done_t:
            continue
        puts = r.queues[qi].puts - pr.sentinels_sent
        ms = (c.last_done_t - first_us * 1000) / 1e6
        out.append(
            f"{pr.name} → {c.name}: {c.items:,} items in {puts:,} put{'' if puts == 1 else 's'}, "
            f"{ms:.3g} ms from the first put to the last get"
        )
    return out


def _payload_lines(r: Reducer, fig: dict[str, float]) -> list[str]:
    out = []
    for a in r.actors:
        per_item = fig.get(f"{a.name}.bytes_per_item")
        peak = fig.get(f"{a.name}.peak_alloc_mb")
        if per_item is None and peak is None:
            continue
        parts = []
        if per_item is not None:
            parts.append(f"{int(per_item):,} bytes per item through the queue")
        rate = sink_rate(a) if a.state == FINISHED else 0.0  # once, not a moving figure
        if rate:
            parts.append(f"{rate:,.0f} items/s")
        if peak is not None:
            parts.append(f"its objects took at most {peak:.3g} MB at once")
        out.append(f"{a.name}: " + " · ".join(parts))
    return out


def measured_lines(sc: Scenario, r: Reducer) -> list[str]:
    """What the run has measured so far, one markdown line per figure ([] if nothing)."""
    if not r.marks:
        return []
    fig = mark_figures(r.marks)
    return [*_pickle_lines(fig), *_lane_lines(sc, r, fig), *_payload_lines(r, fig)]


def with_measured(markdown: str, lines: list[str]) -> str:
    """The lesson text with a *Measured in this run* list before its *What to
    notice* heading, at that heading's level (at the end if it has none)."""
    if not lines:
        return markdown
    m = re.search(r"^(#+) What to notice", markdown, re.M)
    level = m.group(1) if m else "##"
    block = f"{level} Measured in this run\n\n" + "\n".join(f"- {x}" for x in lines) + "\n\n"
    if m is None:
        return markdown.rstrip("\n") + "\n\n" + block
    return markdown[: m.start()] + block + markdown[m.start() :]
