"""A full queue: put() waits for room, put(timeout=1) gives up, one get() makes room.

One process and one Queue(maxsize=2) are enough to see it.
Run it yourself: python 02-queue-full.py (--help lists the options)
"""

import argparse
import multiprocessing
import queue
import time
from multiprocessing import Queue


def main(maxsize, timeout, delay):
    q = Queue(maxsize=maxsize)
    for i in range(1, maxsize + 1):
        q.put(f"item {i}")
        print(f"main put 'item {i}'", flush=True)
        time.sleep(delay)  # slow enough to watch

    # the queue is full: this put() waits up to `timeout` seconds for room
    extra = maxsize + 1
    try:
        q.put(f"item {extra}", timeout=timeout)
    except queue.Full:
        print(f"Failed to add item {extra}: queue.Full after {timeout:g} s", flush=True)
    time.sleep(delay)

    item = q.get()  # take one item out: that frees a place
    print(f"main got {item!r}", flush=True)
    time.sleep(delay)

    q.put(f"item {extra}", timeout=timeout)  # now it fits at once
    print(f"main put 'item {extra}'", flush=True)
    time.sleep(delay)

    for _ in range(maxsize):  # empty the queue: first in, first out
        item = q.get()
        print(f"main got {item!r}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--maxsize", type=int, default=2, help="places in the queue")
    parser.add_argument("--timeout", type=float, default=1.0, help="seconds put() waits")
    parser.add_argument("--delay", type=float, default=0.5, help="seconds between steps")
    parser.add_argument("--start-method", choices=["fork", "spawn", "forkserver"])
    args = parser.parse_args()
    if args.start_method:
        multiprocessing.set_start_method(args.start_method)
    main(args.maxsize, args.timeout, args.delay)
