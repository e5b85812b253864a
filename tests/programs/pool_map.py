"""multiprocessing.Pool: its own queues are internal."""

import json
import multiprocessing as mp
import sys


def cube(x):
    return x * x * x


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    with ctx.Pool(2) as pool:
        out = pool.map(cube, range(8))
    print(json.dumps({"results": out}))
