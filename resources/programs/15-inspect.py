"""Inspecting a queue with get_nowait() right after put(): often it looks empty.

Run it yourself: python 15-inspect.py --rounds 5
"""

import argparse
import multiprocessing
import time
from multiprocessing import Queue


def inspect_queue(q):
    """Take everything out, put it back, return what was there."""
    items = []
    while not q.empty():
        items.append(q.get_nowait())
    for item in items:
        q.put(item)
    return items


def main(rounds, wait, delay):
    q = Queue()
    for r in range(1, rounds + 1):
        records = [f"record {r}.{i}" for i in range(1, 4)]
        for record in records:
            q.put(record)
        if wait:
            time.sleep(wait)  # give the feeder thread time (no cure: a guess)
        found = inspect_queue(q)
        print(f"main put {records!r} one by one", flush=True)
        print(f"round {r}: found {found!r}; Items match: {found == records}", flush=True)
        for _ in records:  # empty the queue for the next round
            item = q.get()
            print(f"main got {item!r}", flush=True)
        time.sleep(delay)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of put, look, empty")
    parser.add_argument("--wait", type=float, default=0.0, help="seconds between put and look")
    parser.add_argument("--delay", type=float, default=0.5, help="seconds between rounds")
    parser.add_argument("--start-method", choices=["fork", "spawn", "forkserver"])
    args = parser.parse_args()
    if args.start_method:
        multiprocessing.set_start_method(args.start_method)
    main(args.rounds, args.wait, args.delay)
