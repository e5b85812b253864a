"""2 producers -> Queue -> 3 consumers; one 'STOP' per consumer."""

import json
import multiprocessing as mp
import sys


def producer(q, name, n):
    for i in range(n):
        q.put(f"{name}-{i}")


def consumer(q, out):
    got = []
    while True:
        x = q.get()
        if x == "STOP":
            break
        got.append(x)
    out.put(got)


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    q = ctx.Queue()
    results = ctx.Queue()
    producers = [ctx.Process(target=producer, args=(q, f"p{k}", 15)) for k in range(2)]
    consumers = [ctx.Process(target=consumer, args=(q, results)) for _ in range(3)]
    for p in producers + consumers:
        p.start()
    for p in producers:
        p.join()
    for _ in consumers:
        q.put("STOP")
    got = [results.get() for _ in consumers]
    for c in consumers:
        c.join()
    print(json.dumps({"put": 30 + 3, "got": got}))
