"""A priority queue shared by processes: a queue.PriorityQueue served by a manager.

Run it yourself: python 09-priority.py --tasks 15
"""

import argparse
import multiprocessing
import queue
import random
import time
from multiprocessing import Process
from multiprocessing.managers import BaseManager


class QueueManager(BaseManager):
    pass


# The PriorityQueue lives in the manager's own process; the other processes
# get a proxy whose put() and get() are carried out there.
QueueManager.register("PriorityQueue", queue.PriorityQueue)


def producer(tasks, n, delay, seed):
    rng = random.Random(seed)
    for i in range(1, n + 1):
        time.sleep(delay)
        priority = rng.choice([1, 2, 3])  # 1 = most urgent
        entry = (priority, i, f"task {i}")  # i keeps equal priorities in order
        tasks.put(entry)
        print(f"producer put {entry!r}", flush=True)
    done = (4, n + 1, "DONE")  # priority 4: served after every task
    tasks.put(done)
    print(f"producer put {done!r}", flush=True)


def consumer(tasks, work):
    while True:
        entry = tasks.get()  # the most urgent entry waiting
        print(f"consumer got {entry!r}", flush=True)
        priority, i, task = entry
        if task == "DONE":
            break
        time.sleep(work)


def main(n, delay, work, seed):
    with QueueManager() as manager:
        tasks = manager.PriorityQueue()  # a proxy: pass it to your processes
        p = Process(target=producer, args=(tasks, n, delay, seed))
        c = Process(target=consumer, args=(tasks, work))
        p.start()
        c.start()
        p.join()
        c.join()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=15, help="tasks the producer puts")
    parser.add_argument("--delay", type=float, default=0.08, help="seconds between tasks")
    parser.add_argument("--work", type=float, default=0.4, help="seconds of work per task")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the priorities")
    parser.add_argument("--start-method", choices=["fork", "spawn", "forkserver"])
    args = parser.parse_args()
    if args.start_method:
        multiprocessing.set_start_method(args.start_method)
    main(args.tasks, args.delay, args.work, args.seed)
