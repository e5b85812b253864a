"""A worker that computes for a while without touching a queue, then reports.

Usage: spin.py START_METHOD SECONDS [rounds]. Its loop's lines are marked.
With ``rounds`` it spins in rounds of 0.1 s with a short sleep between two:
under Python 3.10/3.11 (``sys.settrace``) a process switches line tracking on
when it next calls into qsim's agent, here that sleep.
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


def spin_rounds(q, seconds):
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
    work = spin_rounds if sys.argv[3:] == ["rounds"] else spin
    p = ctx.Process(target=work, args=(q, float(sys.argv[2])), name="spinner")
    p.start()
    n = q.get()
    p.join()
    print(json.dumps({"spins": n}))
