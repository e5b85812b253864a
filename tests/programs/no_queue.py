"""A program that uses no queue at all."""

import json
import sys

if __name__ == "__main__":
    print(json.dumps({"sum": sum(range(100)), "argv": sys.argv[1:]}))
