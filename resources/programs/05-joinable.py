"""JoinableQueue: workers call task_done() after each item, main waits in join().

Run it yourself: python 05-joinable.py --items 8 --workers 2
"""

import argparse
import multiprocessing
import time
from multiprocessing import JoinableQueue, Process, current_process


def worker(q, work):
    me = current_process().name
    while True:
        item = q.get()
        try:
            print(f"{me} got {item!r}", flush=True)
            if item is None:  # the stop signal
                break
            time.sleep(work)  # processing the item
        finally:
            q.task_done()  # exactly once per get(), even on errors


def main(items, workers, delay, work):
    q = JoinableQueue()
    pool = [
        Process(target=worker, args=(q, work), name=f"worker{n}")
        for n in range(1, workers + 1)
    ]
    for w in pool:
        w.start()
    for i in range(1, items + 1):
        time.sleep(delay)
        q.put(f"task {i}")  # one more unfinished task
        print(f"main put 'task {i}'", flush=True)
    for _ in pool:
        q.put(None)  # one stop signal per worker
        print("main put None", flush=True)
    q.join()  # returns once every item put has had its task_done()
    print("main: q.join() returned, every task is done", flush=True)
    for w in pool:
        w.join()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=8, help="tasks main puts")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--delay", type=float, default=0.15, help="seconds between puts")
    parser.add_argument("--work", type=float, default=0.5, help="seconds of work per task")
    parser.add_argument("--start-method", choices=["fork", "spawn", "forkserver"])
    args = parser.parse_args()
    if args.start_method:
        multiprocessing.set_start_method(args.start_method)
    main(args.items, args.workers, args.delay, args.work)
