"""One producer, one consumer, one Queue, and a "DONE" sentinel at the end.

Run it yourself: python 01-basic.py --items 5 (--help lists the options)
"""

import argparse
import multiprocessing
import time
from multiprocessing import Process, Queue


def producer(q, items, delay):
    for i in range(1, items + 1):
        time.sleep(delay)  # making an item takes a while
        item = f"item {i}"
        q.put(item)
        print(f"producer put {item!r}", flush=True)
    q.put("DONE")  # the sentinel: "nothing more will come"
    print("producer put 'DONE'", flush=True)


def consumer(q, work):
    while True:
        item = q.get()  # waits while the queue is empty
        print(f"consumer got {item!r}", flush=True)
        if item == "DONE":
            break
        time.sleep(work)  # working on the item


def main(items, delay, work):
    q = Queue()
    p = Process(target=producer, args=(q, items, delay))
    c = Process(target=consumer, args=(q, work))
    p.start()
    c.start()
    p.join()
    c.join()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=5, help="items to put before DONE")
    parser.add_argument("--delay", type=float, default=0.3, help="seconds to make one item")
    parser.add_argument("--work", type=float, default=0.6, help="seconds of work per item")
    parser.add_argument("--start-method", choices=["fork", "spawn", "forkserver"])
    args = parser.parse_args()
    if args.start_method:
        multiprocessing.set_start_method(args.start_method)
    main(args.items, args.delay, args.work)
