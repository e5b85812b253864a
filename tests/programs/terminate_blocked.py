"""A producer terminated while its put waits for room in a full pipe."""

import json
import multiprocessing as mp
import sys
import time


def produce(q):
    while True:
        q.put(b"x" * 10_000)  # a SimpleQueue's put writes the pipe itself


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    q = ctx.SimpleQueue()
    p = ctx.Process(target=produce, args=(q,), name="producer")
    p.start()
    q.get()  # it has begun
    time.sleep(0.5)  # it fills the pipe (64 KB) and waits in its next put
    t = time.monotonic()
    p.terminate()
    p.join()
    print(json.dumps({"exitcode": p.exitcode, "join_s": round(time.monotonic() - t, 2)}))
