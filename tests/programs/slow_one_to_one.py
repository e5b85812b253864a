"""1 producer -> Queue -> 1 consumer at a pace you can watch, ending with 'DONE'.

Usage: slow_one_to_one.py [START_METHOD] [ITEMS] [SECONDS_PER_ITEM]. Prints JSON.
"""

import json
import multiprocessing as mp
import sys
import time


def producer(q, n, pace):
    for i in range(n):
        time.sleep(pace)  # making the item
        q.put({"order": i, "qty": i % 3 + 1})
    q.put("DONE")


def consumer(q, out, pace):
    got = []
    while True:
        item = q.get()  # <- consumer waits here
        if item == "DONE":
            break
        time.sleep(pace * 1.5)  # handling it: slower than the producer
        got.append(repr(item))
    out.put(got)


if __name__ == "__main__":
    method = sys.argv[1] if len(sys.argv) > 1 else "spawn"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    pace = float(sys.argv[3]) if len(sys.argv) > 3 else 0.3
    ctx = mp.get_context(method)
    orders = ctx.Queue()
    results = ctx.Queue()
    p = ctx.Process(target=producer, args=(orders, n, pace), name="producer")
    c = ctx.Process(target=consumer, args=(orders, results, pace), name="consumer")
    p.start()
    c.start()
    got = results.get()
    p.join()
    c.join()
    print(json.dumps({"put": n + 1, "got": got}))
