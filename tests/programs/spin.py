"""A worker that computes for a while without touching a queue, then reports.

Usage: spin.py START_METHOD SECONDS. Its loop's lines are marked.
"""

import json
import multiprocessing as mp
import sys
import time


def spin(q, seconds):
    t = time.monotonic()
    n = 0
    while time.monotonic() - t < seconds:  # <- spin tests
        n += 1  # <- spin adds
        n -= 0  # <- spin subtracts
    q.put(n)


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    q = ctx.Queue()
    p = ctx.Process(target=spin, args=(q, float(sys.argv[2])), name="spinner")
    p.start()
    n = q.get()
    p.join()
    print(json.dumps({"spins": n}))
