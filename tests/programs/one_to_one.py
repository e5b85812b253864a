"""1 producer -> Queue -> 1 consumer, ending with a 'DONE' sentinel.

Usage: one_to_one.py [START_METHOD] [ITEMS]. Prints what it did as JSON.
"""

import json
import multiprocessing as mp
import sys


def producer(q, n):
    for i in range(n):
        q.put(("item", i))
    q.put("DONE")


def consumer(q, out):
    got = []
    while True:
        x = q.get()
        if x == "DONE":
            break
        got.append(repr(x))
    out.send(got)


if __name__ == "__main__":
    method = sys.argv[1] if len(sys.argv) > 1 else "spawn"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    ctx = mp.get_context(method)
    q = ctx.Queue()
    r, w = ctx.Pipe(duplex=False)
    p = ctx.Process(target=producer, args=(q, n), name="producer")
    c = ctx.Process(target=consumer, args=(q, w))
    p.start()
    c.start()
    got = r.recv()
    p.join()
    c.join()
    print(json.dumps({"put": n + 1, "got": got, "sentinel": "DONE"}))
