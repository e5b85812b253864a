"""The program ``qsim bench trace`` runs, traced and untraced: an ordinary
multiprocessing program (it imports nothing of qsim).

1 producer -> Queue -> 1 consumer, flat out, small tuples, a ``None`` sentinel.
Usage: ``python bench_trace_program.py START_METHOD ITEMS``; prints JSON with
items/s from the first put to the last get, timed inside the processes.
"""

import json
import multiprocessing as mp
import sys
import time
from typing import Any


def producer(q: Any, n: int, out: Any) -> None:
    t0 = time.monotonic_ns()
    for i in range(n):
        q.put((i, "x"))
    q.put(None)
    out.send(t0)


def consumer(q: Any, out: Any) -> None:
    n = 0
    get = q.get
    while get() is not None:
        n += 1
    out.send((time.monotonic_ns(), n))


if __name__ == "__main__":
    method, items = sys.argv[1], int(sys.argv[2])
    ctx: Any = mp.get_context(method)
    q = ctx.Queue()
    pr, pw = ctx.Pipe(duplex=False)
    cr, cw = ctx.Pipe(duplex=False)
    c = ctx.Process(target=consumer, args=(q, cw))
    p = ctx.Process(target=producer, args=(q, items, pw))
    c.start()
    p.start()
    t0 = pr.recv()
    t1, got = cr.recv()
    p.join()
    c.join()
    print(json.dumps({"items": got, "items_per_s": got / ((t1 - t0) / 1e9)}))
