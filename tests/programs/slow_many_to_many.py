"""3 producers -> Queue(maxsize=4) -> 2 consumers at a watchable pace; one 'STOP'
per consumer. Usage: slow_many_to_many.py [START_METHOD] [ITEMS_EACH] [PACE]."""

import json
import multiprocessing as mp
import sys
import time


def producer(tasks, name, n, pace):
    for i in range(n):
        time.sleep(pace)
        tasks.put(f"{name}:{i}")


def consumer(tasks, done, pace):
    handled = 0
    while tasks.get() != "STOP":
        time.sleep(pace * 2.5)
        handled += 1
    done.put(handled)


if __name__ == "__main__":
    method = sys.argv[1] if len(sys.argv) > 1 else "spawn"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    pace = float(sys.argv[3]) if len(sys.argv) > 3 else 0.25
    ctx = mp.get_context(method)
    tasks = ctx.Queue(maxsize=4)
    done = ctx.Queue()
    producers = [
        ctx.Process(target=producer, args=(tasks, f"p{k}", n, pace), name=f"producer{k}")
        for k in (1, 2, 3)
    ]
    consumers = [
        ctx.Process(target=consumer, args=(tasks, done, pace), name=f"consumer{k}") for k in (1, 2)
    ]
    for p in producers + consumers:
        p.start()
    for p in producers:
        p.join()
    for _ in consumers:
        tasks.put("STOP")
    counts = [done.get() for _ in consumers]
    for c in consumers:
        c.join()
    print(json.dumps({"put": 3 * n, "handled": sum(counts)}))
