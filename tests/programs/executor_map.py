"""concurrent.futures.ProcessPoolExecutor: its own queues are internal."""

import json
import multiprocessing as mp
import sys
from concurrent.futures import ProcessPoolExecutor


def double(x):
    return 2 * x


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    with ProcessPoolExecutor(2, mp_context=ctx) as ex:
        out = list(ex.map(double, range(6)))
    print(json.dumps({"results": out}))
