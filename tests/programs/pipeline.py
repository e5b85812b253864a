"""A 3-stage pipeline: numbers -> square -> total, a None sentinel through every stage."""

import json
import multiprocessing as mp
import sys


def square(inbox, outbox):
    while (x := inbox.get()) is not None:
        outbox.put(x * x)
    outbox.put(None)


def total(inbox, out):
    seen = []
    while (x := inbox.get()) is not None:
        seen.append(x)
    out.send(seen)


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    numbers = ctx.Queue()
    squares = ctx.Queue(maxsize=3)
    r, w = ctx.Pipe(duplex=False)
    stages = [
        ctx.Process(target=square, args=(numbers, squares)),
        ctx.Process(target=total, args=(squares, w)),
    ]
    for s in stages:
        s.start()
    for i in range(10):
        numbers.put(i)
    numbers.put(None)
    seen = r.recv()
    for s in stages:
        s.join()
    print(json.dumps({"numbers": list(range(10)), "squares": seen}))
