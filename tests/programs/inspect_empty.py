"""The tutorial's debugging helper: look into a queue right after put().

``get_nowait()`` right after ``put()`` often finds the queue empty: put() only
appended the item to this process's feeder buffer; the feeder thread has not
written it into the pipe yet. Prints how many looks found nothing (JSON).
"""

import json
import multiprocessing as mp
import queue
import sys


def main(rounds: int) -> None:
    q = mp.get_context(sys.argv[1]).Queue()
    empty = 0
    for n in range(rounds):
        q.put(("record", n, "x" * 200_000))  # big enough that pickling it takes a while
        try:
            q.get_nowait()  # <- right after put(): often Empty
        except queue.Empty:
            empty += 1
            q.get()  # it comes, a moment later
    print(json.dumps({"rounds": rounds, "found_empty": empty}))


if __name__ == "__main__":
    main(int(sys.argv[2]) if len(sys.argv) > 2 else 20)
