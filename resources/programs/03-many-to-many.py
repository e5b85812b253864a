"""Many producers and many consumers share one Queue; one "STOP" per consumer.

Run it yourself: python 03-many-to-many.py --producers 3 --consumers 2
"""

import argparse
import multiprocessing
import time
from multiprocessing import Process, Queue, current_process


def producer(q, items, delay):
    me = current_process().name  # "P1", "P2", ...
    for i in range(1, items + 1):
        time.sleep(delay)
        item = f"{me}-{i}"  # P1-1, P1-2, ...
        q.put(item)
        print(f"{me} put {item!r}", flush=True)


def consumer(q, work):
    me = current_process().name  # "C1", "C2", ...
    while True:
        item = q.get()  # whichever consumer asks first gets the next item
        print(f"{me} got {item!r}", flush=True)
        if item == "STOP":
            break
        time.sleep(work)


def main(n_producers, n_consumers, stops, items, delay, work):
    q = Queue()
    producers = [
        Process(target=producer, args=(q, items, delay), name=f"P{n}")
        for n in range(1, n_producers + 1)
    ]
    consumers = [
        Process(target=consumer, args=(q, work), name=f"C{n}")
        for n in range(1, n_consumers + 1)
    ]
    for p in producers + consumers:
        p.start()
    for p in producers:
        p.join()  # every producer is done...
    for _ in range(stops):
        q.put("STOP")  # ...so main sends one STOP per consumer
        print("main put 'STOP'", flush=True)
    for c in consumers:
        c.join()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--producers", type=int, default=3, help="producer processes")
    parser.add_argument("--consumers", type=int, default=2, help="consumer processes")
    parser.add_argument("--stops", type=int, default=2, help="STOPs main puts at the end")
    parser.add_argument("--items", type=int, default=4, help="items each producer puts")
    parser.add_argument("--delay", type=float, default=0.15, help="seconds to make an item")
    parser.add_argument("--work", type=float, default=0.3, help="seconds of work per item")
    parser.add_argument("--start-method", choices=["fork", "spawn", "forkserver"])
    args = parser.parse_args()
    if args.start_method:
        multiprocessing.set_start_method(args.start_method)
    main(args.producers, args.consumers, args.stops, args.items, args.delay, args.work)
