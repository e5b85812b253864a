"""The one event format, as a writer packs it: a flat-out producer's run of
PUT_DONEs (``EventBuffer.add_run``), and a feeder's writes packed as columns
(``add_columns``), are the same records, in the same order, as the same
events added one by one."""

from __future__ import annotations

from qsim.model.events import EventKind
from qsim.model.records import StringTable, decode, to_events
from qsim.model.wire import MAX_RUN, VT_INT, EventBuffer

K = EventKind


def _batch(first_seq: int, steps: list[tuple], runs: bool) -> bytes:
    """The batch of ``steps``; a run's PUT_DONEs packed at once (``runs``) or
    added one record at a time."""
    buf = EventBuffer(3)
    buf.seq = first_seq
    for step in steps:
        if step[0] == "add":
            buf.add(*step[1:])
            continue
        if step[0] == "columns":
            _, times, items, values, qi = step
            if runs:
                buf.add_columns(times, items, values, qi, int(K.FEEDER_WRITE), VT_INT)
            else:
                for t, i, v in zip(times, items, values, strict=True):
                    buf.pending.append((t, i, v, 0, qi, int(K.FEEDER_WRITE), VT_INT))
            continue
        _, times, first, qi = step
        if runs:
            buf.add_run(times, first, 1, 0, qi, int(K.PUT_DONE), VT_INT)
        else:
            for k, t in enumerate(times):
                buf.pending.append((t, first + k, 1, 0, qi, int(K.PUT_DONE), VT_INT))
    return bytes(buf.take())


def test_a_run_packs_the_records_its_events_would_be() -> None:
    t0 = 1_700_000_000_123_456_789
    steps: list[tuple] = [
        ("add", K.PROCESS_STARTED, 0, -1, "P1", 0, 0, t0),
        ("run", [t0 + 10 * k for k in range(1, 40)], 1, 0),
        ("add", K.PUT_BLOCKED, 40, 0, None, 0, 0, t0 + 500),
        ("add", K.PUT_DONE, 40, 0, 1, 0, 0, t0 + 600),
        ("run", [t0 + 700 + k for k in range(MAX_RUN)], 41, 2),
        ("run", [], 41 + MAX_RUN, 2),
        ("run", [t0 + 5000], 41 + MAX_RUN, 2),
        ("add", K.MARK, 0, 2, "done", 0, 0, t0 + 6000),
        # a feeder's writes: more than one run's worth, items and sizes apart
        (
            "columns",
            [t0 + 7000 + k for k in range(MAX_RUN + 5)],
            [1, 2, 0] * 87,
            [104] * 260 + [1 << 40] * 1,
            2,
        ),
        ("columns", [], [], [], 2),
    ]
    plain, packed = _batch(7, steps, runs=False), _batch(7, steps, runs=True)
    assert packed == plain
    table = StringTable()
    events = to_events(decode(packed, table), table)
    puts = [e for e in events if e[3] == K.PUT_DONE]
    assert [e[4] for e in puts] == list(range(1, 42 + MAX_RUN))
    writes = [e for e in events if e[3] == K.FEEDER_WRITE]
    assert [e[4] for e in writes] == [1, 2, 0] * 87
    assert [e[6] for e in writes][-2:] == [104, 1 << 40]
    assert [e[1] for e in events] == list(range(7, 7 + len(events)))  # seq, in order
    assert all(e[2] == 3 for e in events)  # the batch's actor
    assert events[0][6] == "P1" and events[-len(writes) - 1][6] == "done"


def test_a_run_between_two_takes_starts_the_next_batch() -> None:
    buf = EventBuffer(1)
    buf.add_run([5, 6, 7], 10, 1, 0, 0, int(K.PUT_DONE), VT_INT)
    assert len(buf) == 3
    first = bytes(buf.take())
    buf.add_run([8], 13, 1, 0, 0, int(K.PUT_DONE), VT_INT)
    second = bytes(buf.take())
    assert len(buf) == 0
    table = StringTable()
    a, b = (to_events(decode(m, table), table) for m in (first, second))
    assert [(e[1], e[4], e[0]) for e in a + b] == [(0, 10, 5), (1, 11, 6), (2, 12, 7), (3, 13, 8)]
