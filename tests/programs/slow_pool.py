"""multiprocessing.Pool(3) at a watchable pace: its own queues are internal.

Usage: slow_pool.py [START_METHOD] [JOBS] [PACE]. Prints JSON.
"""

import json
import multiprocessing as mp
import sys
import time

PACE = 0.3


def slow_square(x):
    time.sleep(PACE)
    return x * x


if __name__ == "__main__":
    method = sys.argv[1] if len(sys.argv) > 1 else "spawn"
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    PACE = float(sys.argv[3]) if len(sys.argv) > 3 else PACE
    ctx = mp.get_context(method)
    with ctx.Pool(3) as pool:
        out = list(pool.imap(slow_square, range(jobs)))
    print(json.dumps({"results": out}))
