"""Priorities across processes: a manager's PriorityQueue; the consumer starts once all are in."""

import json
import multiprocessing as mp
import queue
import sys
from multiprocessing.managers import BaseManager


class Manager(BaseManager):
    pass


Manager.register("PriorityQueue", queue.PriorityQueue)


def producer(pq):
    for prio, job in [(5, "low"), (1, "urgent"), (3, "normal"), (1, "urgent-2"), (9, "idle")]:
        pq.put((prio, job))


def consumer(pq, n, out):
    out.send([pq.get() for _ in range(n)])


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    with Manager(ctx=ctx) as m:
        pq = m.PriorityQueue()
        p = ctx.Process(target=producer, args=(pq,))
        p.start()
        p.join()
        r, w = ctx.Pipe(duplex=False)
        c = ctx.Process(target=consumer, args=(pq, 5, w))
        c.start()
        got = r.recv()
        c.join()
    print(json.dumps({"got": [list(x) for x in got]}))
