"""Where a traced program's processes and queues are drawn (no Qt, no processes).

The topology of a program grows as it runs; these build it by hand, the way
the reducer grows it, and check what a student would notice: items flow left
to right, a result sent back to main goes round below, nothing new moves the
boxes that were there, and no token's path cuts across a queue.
"""

from __future__ import annotations

import itertools

from qsim.model.topology import GOT_FROM, PUT_ON, ActorInfo, QueueInfo, Topology, Use
from qsim.ui.diagram.layout import Layout, compute_layout
from qsim.ui.diagram.program_layout import drawn_topology, program_layout, roles


def program(actors: list[str], queues: list[str], uses: list[tuple[str, str, int]]) -> Topology:
    """A traced topology: ``uses`` as (process, queue, PUT_ON/GOT_FROM) in order seen."""
    infos = tuple(
        ActorInfo(n, name, "process", "internal" if name.startswith("Pool") else "program", -1, -1)
        for n, name in enumerate(actors)
    )
    qs = tuple(QueueInfo(n, q, "Queue", 0, q.startswith("_")) for n, q in enumerate(queues))
    bits: dict[tuple[int, int], int] = {}
    for a, q, how in uses:
        key = (actors.index(a), queues.index(q))
        bits[key] = bits.get(key, 0) | how
    return Topology(
        infos, qs, traced=True, uses=tuple(Use(a, q, how) for (a, q), how in bits.items())
    )


def layout(topo: Topology, wrap: bool = False) -> Layout:
    """Laid out for a wide view (one row), or a 3:2 one (long chains wrap)."""
    view = (1200.0, 800.0) if wrap else (4000.0, 800.0)
    return program_layout(drawn_topology(topo), view=view)


def x_of(lay: Layout, topo: Topology, name: str) -> float:
    names = [a.name for a in topo.actors]
    if name in names:
        return lay.actors[names.index(name)].x
    return lay.queues[[q.id for q in topo.queues].index(name)].x


def cuts_a_queue(lay: Layout) -> list[str]:
    """Routes that pass through the inside of a queue's slot row."""
    bad = []
    for key, route in lay.routes.items():
        for (xa, ya), (xb, yb) in itertools.pairwise(route):
            for k in range(1, 40):
                x, y = xa + (xb - xa) * k / 40, ya + (yb - ya) * k / 40
                for qi, qb in enumerate(lay.queues):
                    r = qb.row
                    if r.x + 1 < x < r.right - 1 and r.y + 1 < y < r.bottom - 1:
                        bad.append(f"{key} through queue {qi}")
    return sorted(set(bad))


ONE_TO_ONE = program(
    ["main", "producer", "consumer"],
    ["q", "done"],
    [
        ("producer", "q", PUT_ON),
        ("consumer", "q", GOT_FROM),
        ("consumer", "done", PUT_ON),
        ("main", "done", GOT_FROM),
    ],
)


def test_items_flow_left_to_right_through_the_program_s_own_names() -> None:
    topo = ONE_TO_ONE
    lay = layout(topo)
    order = ["producer", "q", "consumer", "done", "main"]
    xs = [x_of(lay, topo, n) for n in order]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    drawn = drawn_topology(topo)
    assert [a.role for a in drawn.actors] == ["consumer", "producer", "stage"]
    assert not cuts_a_queue(lay)
    # the view asks the scenario layout: a traced topology is handed over
    assert compute_layout(drawn, None).actors.keys() == lay.actors.keys()  # type: ignore[arg-type]


def test_a_process_that_used_no_queue_is_drawn_small_above() -> None:
    topo = program(
        ["main", "producer", "consumer"],
        ["q"],
        [("producer", "q", PUT_ON), ("consumer", "q", GOT_FROM)],
    )
    lay = layout(topo)
    main, producer = lay.actors[0], lay.actors[1]
    assert main.compact and main.bottom < min(b.y for b in lay.queues)
    assert main.h < producer.h
    assert not [e for e in lay.edges if main.hand in e]  # no edge drawn for it


def test_results_sent_back_to_main_go_round_below_everything() -> None:
    topo = program(
        ["main", "w1", "w2"],
        ["tasks", "results"],
        [("main", "tasks", PUT_ON)]
        + [(w, "tasks", GOT_FROM) for w in ("w1", "w2")]
        + [(w, "results", PUT_ON) for w in ("w1", "w2")]
        + [("main", "results", GOT_FROM)],
    )
    lay = layout(topo)
    assert x_of(lay, topo, "main") < x_of(lay, topo, "tasks") < x_of(lay, topo, "w1")
    assert x_of(lay, topo, "w1") < x_of(lay, topo, "results")
    back = lay.routes[(1, 1, 0)]  # results -> main
    lowest = max(b.bottom for b in [*lay.actors.values(), *lay.queues])
    assert max(y for _, y in back) > lowest
    assert not cuts_a_queue(lay)


def test_a_long_pipeline_wraps_and_no_path_cuts_a_queue() -> None:
    stages = ["read", "parse", "check", "save"]
    queues = ["a", "b", "c"]
    uses = []
    for n, q in enumerate(queues):
        uses += [(stages[n], q, PUT_ON), (stages[n + 1], q, GOT_FROM)]
    topo = program(["main", *stages], queues, uses)
    lay = layout(topo, wrap=True)
    ys = {lay.actors[i].y for i in range(1, 5)}
    assert len(ys) > 1, "a 4-stage pipeline should wrap onto a second row"
    assert not cuts_a_queue(lay)


def test_a_queue_nobody_fed_yet_waits_where_it_will_be() -> None:
    before = program(
        ["main", "read", "save"],
        ["lines", "out"],
        [("read", "lines", PUT_ON), ("save", "lines", GOT_FROM), ("main", "out", GOT_FROM)],
    )
    after = program(
        ["main", "read", "save"],
        ["lines", "out"],
        [
            ("read", "lines", PUT_ON),
            ("save", "lines", GOT_FROM),
            ("main", "out", GOT_FROM),
            ("save", "out", PUT_ON),
        ],
    )
    for topo in (before, after):
        lay = layout(topo)
        assert x_of(lay, topo, "lines") < x_of(lay, topo, "out") < x_of(lay, topo, "main")
    assert roles(after).level[1] == roles(before).level[1] == 1


def test_a_new_worker_leaves_the_others_where_they_were() -> None:
    base = [
        ("p1", "q", PUT_ON),
        ("p2", "q", PUT_ON),
        ("p3", "q", PUT_ON),
        ("c1", "q", GOT_FROM),
    ]
    first = program(["main", "p1", "p2", "p3", "c1"], ["q"], base)
    more = program(["main", "p1", "p2", "p3", "c1", "c2"], ["q"], [*base, ("c2", "q", GOT_FROM)])
    a, b = layout(first), layout(more)
    for i in range(5):
        assert (a.actors[i].x, a.actors[i].y) == (b.actors[i].x, b.actors[i].y)
    assert (a.queues[0].x, a.queues[0].y) == (b.queues[0].x, b.queues[0].y)
    assert b.actors[5].y > b.actors[4].y  # added at the end of its column


def test_a_pool_s_queues_and_workers_are_named_internal() -> None:
    topo = program(
        ["main", "PoolWorker-1", "PoolWorker-2"],
        ["_inqueue", "_outqueue"],
        [("main", "_inqueue", PUT_ON)]
        + [(w, "_inqueue", GOT_FROM) for w in ("PoolWorker-1", "PoolWorker-2")]
        + [(w, "_outqueue", PUT_ON) for w in ("PoolWorker-1", "PoolWorker-2")]
        + [("main", "_outqueue", GOT_FROM)],
    )
    drawn = drawn_topology(topo)
    assert [q.id for q in drawn.queues] == ["_inqueue (internal)", "_outqueue (internal)"]
    assert drawn.actors[1].name == "PoolWorker-1 (internal)"
    assert drawn.actors[0].name == "main"
    assert not cuts_a_queue(layout(topo))


def test_every_pair_has_a_route_before_its_first_use() -> None:
    """A first put is animated before its edge exists: a route must be there."""
    topo = program(["main", "a", "b"], ["q1", "q2"], [("a", "q1", PUT_ON)])
    lay = layout(topo)
    for ai in range(3):
        for qi in range(2):
            assert (0, ai, qi) in lay.routes and (1, qi, ai) in lay.routes
    assert not cuts_a_queue(lay)


def test_no_path_cuts_a_queue_in_any_shape_one_row_or_wrapped() -> None:
    shapes = [ONE_TO_ONE]
    workers = [f"w{n}" for n in range(5)]
    shapes.append(
        program(
            ["main", *workers],
            ["tasks", "results", "log"],
            [("main", "tasks", PUT_ON)]
            + [(w, "tasks", GOT_FROM) for w in workers]
            + [(w, "results", PUT_ON) for w in workers]
            + [("main", "results", GOT_FROM), ("w0", "log", PUT_ON)],
        )
    )
    chain = [f"s{n}" for n in range(6)]
    qs = [f"q{n}" for n in range(5)]
    uses = [(chain[n], q, PUT_ON) for n, q in enumerate(qs)]
    uses += [(chain[n + 1], q, GOT_FROM) for n, q in enumerate(qs)]
    shapes.append(program(["main", *chain], qs, [*uses, ("main", "q4", GOT_FROM)]))
    for topo in shapes:
        for wrap in (False, True):
            for scale in (1.0, 2.5):  # presenting: bigger letters and tokens
                lay = program_layout(
                    drawn_topology(topo),
                    scale,
                    scale * 1.3,
                    view=(1200.0, 800.0) if wrap else (4000.0, 800.0),
                )
                assert not cuts_a_queue(lay), (topo.queues, wrap, scale)
                # and nothing is drawn outside the scene (it would be cut off)
                r = lay.rect
                points = [p for route in lay.routes.values() for p in route]
                points += [(b.x, b.y) for b in [*lay.actors.values(), *lay.queues]]
                points += [(b.right, b.bottom) for b in [*lay.actors.values(), *lay.queues]]
                outside = [p for p in points if not (0 <= p[0] <= r.w and 0 <= p[1] <= r.h)]
                assert not outside, (topo.queues, wrap, scale, outside[:3])
