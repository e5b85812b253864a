"""A 3-stage pipeline at a watchable pace: read -> lines -> parse -> records ->
save, a None sentinel through every stage.

Usage: slow_pipeline.py [START_METHOD] [LINES] [PACE]. Prints JSON.
"""

import json
import multiprocessing as mp
import sys
import time


def read(lines, n, pace):
    for i in range(n):
        time.sleep(pace)
        lines.put(f"row {i},{i * i}")
    lines.put(None)


def parse(lines, records, pace):
    while (line := lines.get()) is not None:
        time.sleep(pace * 1.2)
        name, value = line.split(",")
        records.put((name, int(value)))
    records.put(None)


def save(records, out, pace):
    total = 0
    while (rec := records.get()) is not None:  # <- save waits here
        time.sleep(pace * 0.8)
        total += rec[1]
    out.send(total)


if __name__ == "__main__":
    method = sys.argv[1] if len(sys.argv) > 1 else "spawn"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    pace = float(sys.argv[3]) if len(sys.argv) > 3 else 0.3
    ctx = mp.get_context(method)
    lines = ctx.Queue()
    records = ctx.Queue(maxsize=3)
    result, sender = ctx.Pipe(duplex=False)
    stages = [
        ctx.Process(target=read, args=(lines, n, pace)),
        ctx.Process(target=parse, args=(lines, records, pace)),
        ctx.Process(target=save, args=(records, sender, pace)),
    ]
    for s in stages:
        s.start()
    total = result.recv()
    for s in stages:
        s.join()
    print(json.dumps({"lines": n, "total": total}))
