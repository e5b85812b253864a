"""A mistake: the consumer waits for a sentinel that is never sent; main joins it."""

import multiprocessing as mp
import sys


def consumer(q):
    while True:
        x = q.get()  # <- consumer blocks here
        print("got", x, flush=True)


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    q = ctx.Queue()
    c = ctx.Process(target=consumer, args=(q,))
    c.start()
    for i in range(3):
        q.put(i)
    c.join()  # <- main blocks here
