"""The main program itself fails."""

import sys


def compute(x):
    return 10 / x


if __name__ == "__main__":
    print("starting", sys.argv[1], flush=True)
    compute(0)
