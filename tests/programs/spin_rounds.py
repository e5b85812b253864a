"""A worker that computes in rounds, with a short sleep between two rounds,
then reports.

Usage: spin_rounds.py START_METHOD SECONDS. Its loop's lines are marked.
Under Python 3.10/3.11 (``sys.settrace``) a process switches line tracking on
when it next calls into qsim's agent: here, the sleep between two rounds.
"""

import json
import multiprocessing as mp
import sys
import time


def spin(q, seconds):
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        t = time.monotonic()
        while time.monotonic() - t < 0.1:  # <- round tests
            n += 1  # <- round adds
            n -= 0  # <- round subtracts
        time.sleep(0.01)
    q.put(n)


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    q = ctx.Queue()
    p = ctx.Process(target=spin, args=(q, float(sys.argv[2])), name="spinner")
    p.start()
    n = q.get()
    p.join()
    print(json.dumps({"spins": n}))
