"""Pitfall: under spawn, a Process's target is pickled, and a nested function cannot be.

Run it yourself: python 07-spawn-pickling.py          (the error)
                 python 07-spawn-pickling.py --fixed  (the fix)
"""

import argparse
import multiprocessing
from multiprocessing import Process, Queue


def work(tasks):  # the fix: a function at the top level of the module
    while (task := tasks.get()) != "DONE":
        print(f"worker got {task!r}", flush=True)
    print("worker got 'DONE'", flush=True)


def main(fixed):
    tasks = Queue()
    if fixed:
        target = work
    else:

        def nested_work(tasks):  # defined inside main(): spawn cannot pickle it
            while (task := tasks.get()) != "DONE":
                print(f"worker got {task!r}", flush=True)
            print("worker got 'DONE'", flush=True)

        target = nested_work
    p = Process(target=target, args=(tasks,), name="worker")
    p.start()  # spawn pickles the Process, its target and its args here
    for task in ["task 1", "task 2", "DONE"]:
        tasks.put(task)
        print(f"main put {task!r}", flush=True)
    p.join()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fixed", action="store_true", help="use the top-level function")
    parser.add_argument(
        "--start-method", choices=["fork", "spawn", "forkserver"], default="spawn"
    )
    args = parser.parse_args()
    multiprocessing.set_start_method(args.start_method)
    main(args.fixed)
