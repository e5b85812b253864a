"""JoinableQueue: workers call task_done(); main waits in join(), then stops them with None."""

import json
import multiprocessing as mp
import sys


def worker(q):
    while True:
        x = q.get()
        q.task_done()
        if x is None:
            break


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    tasks = ctx.JoinableQueue()
    workers = [ctx.Process(target=worker, args=(tasks,)) for _ in range(2)]
    for w in workers:
        w.start()
    for i in range(12):
        tasks.put(i)
    tasks.join()  # <- main joins the queue
    for _ in workers:
        tasks.put(None)
    for w in workers:
        w.join()
    print(json.dumps({"put": 14, "task_done": 14}))
