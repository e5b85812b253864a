"""A Pipe: the child sends 5 messages and a None sentinel; the parent receives them."""

import json
import multiprocessing as mp
import sys


def talker(conn):
    for i in range(5):
        conn.send({"n": i})
    conn.send(None)


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    parent_end, child_end = ctx.Pipe()
    p = ctx.Process(target=talker, args=(child_end,))
    p.start()
    got = []
    while (msg := parent_end.recv()) is not None:
        got.append(msg)
    p.join()
    print(json.dumps({"got": got}))
