"""A 3-stage pipeline: collect -> parse -> analyse, a queue between each stage.

Run it yourself: python 10-pipeline.py --analysers 3
"""

import argparse
import multiprocessing
import time
from multiprocessing import Process, Queue, current_process

RECORDS = [
    "user:alice:login",
    "user:bob:click",
    "system:backup:done",
    "user:carol:logout",
    "error:disk:full",
]
KINDS = {"user": "user_action", "system": "system_event"}


def collect(raw, delay):
    for record in RECORDS:
        time.sleep(delay)
        raw.put(record)
        print(f"collect put {record!r}", flush=True)
    raw.put(None)  # the STOP follows the data
    print("collect put None", flush=True)


def parse(raw, parsed, analysers, work):
    while (record := raw.get()) is not None:
        print(f"parse got {record!r}", flush=True)
        time.sleep(work)
        fields = tuple(record.split(":"))
        parsed.put(fields)
        print(f"parse put {fields!r}", flush=True)
    print("parse got None", flush=True)
    for _ in range(analysers):
        parsed.put(None)  # pass the STOP on: one per analyse worker
        print("parse put None", flush=True)


def analyse(parsed, results, work):
    me = current_process().name
    counts = {}
    while (fields := parsed.get()) is not None:
        print(f"{me} got {fields!r}", flush=True)
        time.sleep(work)
        kind = KINDS.get(fields[0], fields[0])
        counts[kind] = counts.get(kind, 0) + 1
    print(f"{me} got None", flush=True)
    results.put(counts)
    print(f"{me} put {counts!r}", flush=True)


def main(analysers, parse_work, analyse_work, delay):
    raw = Queue()
    parsed = Queue()
    results = Queue()
    stages = [
        Process(target=collect, args=(raw, delay), name="collect"),
        Process(target=parse, args=(raw, parsed, analysers, parse_work), name="parse"),
    ]
    for n in range(1, analysers + 1):
        stages.append(
            Process(target=analyse, args=(parsed, results, analyse_work), name=f"analyse{n}")
        )
    for s in stages:
        s.start()
    totals = {}
    for _ in range(analysers):  # one result from each analyse worker
        counts = results.get()
        print(f"main got {counts!r}", flush=True)
        for kind, n in counts.items():
            totals[kind] = totals.get(kind, 0) + n
    for s in stages:
        s.join()
    print(f"main: totals {dict(sorted(totals.items()))}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--analysers", type=int, default=1, help="analyse worker processes")
    parser.add_argument("--parse-work", type=float, default=0.2, help="parse seconds/record")
    parser.add_argument("--analyse-work", type=float, default=0.8, help="analyse seconds/record")
    parser.add_argument("--delay", type=float, default=0.2, help="collect seconds/record")
    parser.add_argument("--start-method", choices=["fork", "spawn", "forkserver"])
    args = parser.parse_args()
    if args.start_method:
        multiprocessing.set_start_method(args.start_method)
    main(args.analysers, args.parse_work, args.analyse_work, args.delay)
