"""Pitfall: the producer never says "DONE", so the consumer waits forever.

Run it yourself: python 11-pitfall-no-sentinel.py              (hangs: Ctrl+C)
                 python 11-pitfall-no-sentinel.py --send-done  (the fix)
"""

import argparse
import multiprocessing
import time
from multiprocessing import Process, Queue


def producer(q, items, delay, send_done):
    for i in range(1, items + 1):
        time.sleep(delay)
        item = f"item {i}"
        q.put(item)
        print(f"producer put {item!r}", flush=True)
    if send_done:
        q.put("DONE")  # the fix: tell the consumer that nothing more will come
        print("producer put 'DONE'", flush=True)


def consumer(q, work):
    while True:
        item = q.get()  # after the last item: waits forever
        print(f"consumer got {item!r}", flush=True)
        if item == "DONE":
            break
        time.sleep(work)


def main(items, delay, work, send_done):
    q = Queue()
    p = Process(target=producer, args=(q, items, delay, send_done))
    c = Process(target=consumer, args=(q, work))
    p.start()
    c.start()
    p.join()
    c.join()  # waits for the consumer, which waits for an item


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=5, help="items the producer puts")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds to make an item")
    parser.add_argument("--work", type=float, default=0.3, help="seconds of work per item")
    parser.add_argument("--send-done", action="store_true", help="send DONE (the fix)")
    parser.add_argument("--start-method", choices=["fork", "spawn", "forkserver"])
    args = parser.parse_args()
    if args.start_method:
        multiprocessing.set_start_method(args.start_method)
    main(args.items, args.delay, args.work, args.send_done)
