"""Each lesson's one key figure, in words, for a lecture audience (no Qt here).

Presenting, the window keeps this one line on screen in large type: the
number the lesson is about ("P1 blocked 82% of the time", "unfinished tasks:
3", "Items match: False in 14 of 20"). It is chosen from what the scenario
does, not from its id, so a student's own scenario gets a figure too; it reads
the reducer's state at the displayed instant ``t`` only.
"""

from __future__ import annotations

from qsim.model.entities import BLOCKED_PUT, CRASHED, FINISHED, JOIN_WAIT, WAITING_GET
from qsim.model.lessons import lane_figures
from qsim.model.panel_figures import time_in_ns
from qsim.model.scenario import Scenario
from qsim.model.state import Reducer
from qsim.model.transforms import CATEGORIES

MATCH_MARK = "Items match: "
BYTES_MARK = ".bytes_per_item="


def key_figure(sc: Scenario, r: Reducer | None, t: int) -> str:
    """The lesson's figure at the displayed instant ``t`` (ns), e.g.
    ``"P1 blocked 82% of the time"``; before a run, what it will show."""
    if r is None:
        return "press Play (Space)"
    for figure in (
        _inspect,
        _bytes_per_item,
        _analysis,
        _priority,
        _lanes,
        _unfinished,
        _put_timeouts,
        _blocked,
        _failures,
        _per_consumer,
        _waiting_forever,
    ):
        text = figure(sc, r, t)
        if text:
            return text
    return _items_done(sc, r)


def plural(n: int, word: str) -> str:
    """``1 error``, ``3 errors``, ``1 user action``..."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def short_number(x: float) -> str:
    """``950``, ``12.3k``, ``1.2M``: a rate read from the back of a lecture hall,
    written as the diagram's lane counters write it."""
    if x >= 1e6:
        return f"{x / 1e6:.3g}M"
    if x >= 1e4:
        return f"{x / 1e3:.3g}k"
    return f"{x:.0f}" if x >= 10 or x == 0 else f"{x:.1f}"


def short_bytes(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.1f} MB"
    if n >= 1e3:
        return f"{n / 1e3:.1f} KB"
    return f"{n:.0f} B"


# ---------------------------------------------------------------- figures
def _inspect(sc: Scenario, r: Reducer, t: int) -> str:
    verdicts = {k[len(MATCH_MARK) :]: n for k, n in r.marks.items() if k.startswith(MATCH_MARK)}
    if not verdicts and not any(p.loop == "inspect_helper" for p in sc.producers):
        return ""
    total = sum(verdicts.values())
    return f"Items match: False in {verdicts.get('False', 0)} of {total}"


def _bytes_per_item(sc: Scenario, r: Reducer, t: int) -> str:
    sums: dict[str, tuple[float, int]] = {}
    for text, n in r.marks.items():
        name, sep, value = text.partition(BYTES_MARK)
        if not sep:
            continue
        try:
            v = float(value)
        except ValueError:
            continue
        total, count = sums.get(name, (0.0, 0))
        sums[name] = (total + v * n, count + n)
    if not sums:
        if any(c.loop == "read_payload" for c in sc.consumers):
            return "bytes per item: none read yet"
        return ""
    parts = [f"{name} {short_bytes(total / count)}" for name, (total, count) in sums.items()]
    return "bytes per item: " + " · ".join(parts)


def _analysis(sc: Scenario, r: Reducer, t: int) -> str:
    if not any(c.function == "analyse" for c in sc.consumers):
        return ""
    words = {"user_action": "user action", "system_event": "system event", "error": "error"}
    counts = [plural(r.marks.get(cat, 0), words[cat]) for cat in CATEGORIES.values()]
    return "analysis: " + ", ".join(counts)


def _priority(sc: Scenario, r: Reducer, t: int) -> str:
    queues = [q for q in r.queues if q.kind == "PriorityQueue"]
    if not queues:
        return ""
    waiting: dict[int, int] = {}
    oldest = 0
    for q in queues:
        for item in q.contents:
            p = r.priority.get(item)
            if p is None or item < 0:  # a sentinel sorts last: it is no task
                continue
            waiting[p] = waiting.get(p, 0) + r.entry_size.get(item, 1)
            put = r.put_time.get(item, 0)
            if put and t > put:
                oldest = max(oldest, t - put)
    if not waiting:
        return "waiting by priority: none"
    parts = " · ".join(f"p{p} ×{n}" for p, n in sorted(waiting.items()))
    longest = f" (oldest {oldest / 1e9:.1f} s)" if oldest >= 1e9 else ""
    return f"waiting by priority: {parts}{longest}"


def _lanes(sc: Scenario, r: Reducer, t: int) -> str:
    lanes = lane_figures(sc, r)
    if len(lanes) < 2:
        return ""
    names = short_names([f.producer for f in lanes])
    if len({f.payload_bytes for f in lanes}) > 1:
        rates = [f"{f.bytes_per_s / 1e6:.3g}" if f.items_per_s else "–" for f in lanes]
        what = "MB/s per lane"
    else:
        rates = [short_number(f.items_per_s) if f.items_per_s else "–" for f in lanes]
        what = "items/s per lane"  # "–": the lane has not run yet
    return f"{what}: " + " · ".join(f"{n} {x}" for n, x in zip(names, rates, strict=True))


def short_names(names: list[str]) -> list[str]:
    """Lane names without the prefix they share up to a separator:
    ``P-tiny``, ``P-small`` -> ``tiny``, ``small``."""
    if len(names) < 2:
        return names
    common = 0
    for chars in zip(*names, strict=False):
        if len(set(chars)) > 1:
            break
        common += 1
    cut = max((names[0].rfind(sep, 0, common) for sep in "-_ ."), default=-1) + 1
    return [n[cut:] or n for n in names]


def _unfinished(sc: Scenario, r: Reducer, t: int) -> str:
    queues = [q for q in r.queues if q.kind == "JoinableQueue"]
    if not queues:
        return ""
    return f"unfinished tasks: {sum(q.unfinished for q in queues)}"


def _put_timeouts(sc: Scenario, r: Reducer, t: int) -> str:
    if not any(p.put_timeout > 0 for p in sc.producers):
        return ""
    full = sum(q.full for q in r.queues)
    return f"put() gave up (queue.Full): {plural(full, 'time')}"


def _blocked(sc: Scenario, r: Reducer, t: int) -> str:
    bounded = {q.id for q in sc.queues if q.maxsize > 0 and q.kind != "SimpleQueue"}
    producers = [a for a in r.actors if a.role == "producer"]
    info = r.topology.actors
    fed = [a for a in producers if r.queues[info[a.index].output_queue].id in bounded]
    if not fed or not r.first_t:
        return ""
    parts = []
    for a in fed[:3]:
        end = a.since_ns if a.state in (FINISHED, CRASHED) and a.since_ns else t
        life = end - (a.started_ns or r.first_t)  # its own lifetime, as the panel counts
        share = 100.0 * time_in_ns(a, BLOCKED_PUT, end) / life if life > 0 else 0.0
        parts.append(f"{a.name} blocked {min(100.0, share):.0f}%")
    return " · ".join(parts) + " of the time"


def _failures(sc: Scenario, r: Reducer, t: int) -> str:
    risky = any(p.failure_rate > 0 for p in sc.producers) or any(
        c.failure_rate > 0 for c in sc.consumers
    )
    if not risky:
        return ""
    acct = r.acct
    return f"processed {acct.processed} · failed {acct.failed} of {acct.produced} made"


def _per_consumer(sc: Scenario, r: Reducer, t: int) -> str:
    consumers = [a for a in r.actors if a.role == "consumer"]
    if len(consumers) < 2:
        return ""
    parts = " · ".join(f"{a.name} {a.items}" for a in consumers[:6])
    return f"done per consumer: {parts} (= {sum(a.items for a in consumers)})"


def _waiting_forever(sc: Scenario, r: Reducer, t: int) -> str:
    """A pitfall: someone waits for what never comes (no sentinel, a join)."""
    for a in r.actors:
        if a.state in (WAITING_GET, JOIN_WAIT) and a.since_ns and t > a.since_ns:
            waited = (t - a.since_ns) / 1e9
            if waited >= 1.0:
                what = "get()" if a.state == WAITING_GET else "join()"
                return f"{a.name} waiting in {what} for {waited:.0f} s"
    return ""


def _items_done(sc: Scenario, r: Reducer) -> str:
    planned = 0
    for p in sc.producers:
        n = len(p.records) if p.records else p.items
        if n <= 0:
            planned = 0
            break
        planned += n * p.count
    done = r.acct.consumed
    return f"items done: {done} of {planned}" if planned else f"items done: {done}"
