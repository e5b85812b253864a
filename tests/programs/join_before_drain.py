"""A mistake: main joins the producer before taking its items out of the queue.

The producer cannot end: its queue's feeder thread still holds items that do
not fit in the pipe (multiprocessing's "joining processes that use queues").
"""

import multiprocessing as mp
import sys


def producer(q):
    for _ in range(50):
        q.put("x" * 10_000)  # <- producer puts


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    q = ctx.Queue()
    p = ctx.Process(target=producer, args=(q,), name="producer")
    p.start()
    p.join()  # <- main blocks here
    items = [q.get() for _ in range(50)]
