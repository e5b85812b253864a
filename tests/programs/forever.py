"""Runs until stopped: a producer and a consumer; main writes every pid to a file
(a FIFO the test waits on: written in one go, then closed).

Usage: forever.py START_METHOD PIDFILE
"""

import json
import multiprocessing as mp
import os
import sys
import time


def producer(q):
    i = 0
    while True:
        q.put(i)  # <- producer puts
        i += 1
        time.sleep(0.01)  # <- producer sleeps


def consumer(q, ready):
    ready.set()
    while True:
        q.get()  # <- consumer gets


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    q = ctx.Queue()
    ready = ctx.Event()
    procs = [
        ctx.Process(target=producer, args=(q,)),
        ctx.Process(target=consumer, args=(q, ready)),
    ]
    for p in procs:
        p.start()
    ready.wait()
    with open(sys.argv[2], "w") as f:
        json.dump([os.getpid()] + [p.pid for p in procs], f)
    for p in procs:
        p.join()  # <- main joins
