"""Producers terminated while they put flat out: every item got was put."""

import json
import multiprocessing as mp
import sys


def produce(q, r):
    i = 0
    while True:
        i += 1
        q.put((r, i))


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    rounds = []
    for r in range(5):
        q = ctx.Queue()
        p = ctx.Process(target=produce, args=(q, r), name=f"producer-{r}")
        p.start()
        got = [q.get() for _ in range(100)]
        p.terminate()  # the producer is somewhere in its put, most likely
        p.join()
        rounds.append([len(got), got == [(r, i) for i in range(1, 101)], p.exitcode])
    print(json.dumps({"rounds": rounds}))
