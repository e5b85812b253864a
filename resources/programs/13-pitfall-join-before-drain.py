"""Pitfall: main joins the producer before taking its items out of the queue.

Run it yourself: python 13-pitfall-join-before-drain.py                (hangs: Ctrl+C)
                 python 13-pitfall-join-before-drain.py --drain-first  (the fix)
"""

import argparse
import multiprocessing
from multiprocessing import Process, Queue


def producer(q, items, size):
    for i in range(1, items + 1):
        q.put(f"item {i}:" + "x" * size)  # returns at once: the item waits in a buffer
        print(f"producer put item {i} ({size} bytes of x)", flush=True)
    print("producer: every put() returned", flush=True)


def main(items, size, drain_first):
    q = Queue()
    p = Process(target=producer, args=(q, items, size))
    p.start()
    if drain_first:
        got = [q.get() for _ in range(items)]  # the fix: drain first...
        p.join()  # ...then join
    else:
        p.join()  # DEADLOCK: p cannot end before its items are in the pipe
        got = [q.get() for _ in range(items)]
    for item in got:
        name, _, data = item.partition(":")
        print(f"main got {name} ({len(data)} bytes of x)", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=20, help="items the producer puts")
    parser.add_argument("--size", type=int, default=65536, help="bytes of x per item")
    parser.add_argument("--drain-first", action="store_true", help="get, then join (the fix)")
    parser.add_argument("--start-method", choices=["fork", "spawn", "forkserver"])
    args = parser.parse_args()
    if args.start_method:
        multiprocessing.set_start_method(args.start_method)
    main(args.items, args.size, args.drain_first)
