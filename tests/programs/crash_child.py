"""A worker that crashes on its third item."""

import json
import multiprocessing as mp
import sys


def worker(q):
    for _ in range(3):
        x = q.get()
    print(1 / (x - x))


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    q = ctx.Queue()
    w = ctx.Process(target=worker, args=(q,), name="worker")
    w.start()
    for i in range(3):
        q.put(i)
    w.join()
    print(json.dumps({"worker_exit_code": w.exitcode}))
