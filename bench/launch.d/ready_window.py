#!/usr/bin/python3
"""How long after `run --daemonize` returns does the proxy refuse clients?

usage: ready_window.py --runs N --port PORT -- BINARY RUN-OPTIONS...

Each run: `BINARY run --daemonize RUN-OPTIONS...` (the options must bind
127.0.0.1:PORT and name an agent socket), then, from the instant it returns,
connect to 127.0.0.1:PORT every 0.2 ms until a connection is accepted;
then `BINARY stop RUN-OPTIONS...`. Prints the median and range of the
milliseconds from the return to the first accepted connection, and the
connections refused in between, per run.
"""

import socket
import statistics
import subprocess
import sys
import time


def main(argv):
    if "--" not in argv or len(argv) < 7:
        sys.stderr.write(__doc__)
        return 64
    sep = argv.index("--")
    opts = dict(zip(argv[1:sep:2], argv[2:sep:2]))
    runs, port = int(opts["--runs"]), int(opts["--port"])
    binary, args = argv[sep + 1], argv[sep + 2:]
    waits, refused = [], []
    for _ in range(runs):
        subprocess.run([binary, "run", "--daemonize"] + args,
                       stdin=subprocess.DEVNULL, check=True)
        start, n = time.monotonic(), 0
        while time.monotonic() - start < 10:
            s = socket.socket()
            try:
                s.connect(("127.0.0.1", port))
                break
            except ConnectionRefusedError:
                n += 1
                time.sleep(0.0002)
            finally:
                s.close()
        waits.append((time.monotonic() - start) * 1000)
        refused.append(n)
        subprocess.run([binary, "stop"] + args, stdin=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
    print("return to first accepted connection: median %.2f ms (%.2f-%.2f);"
          " refused per start: median %d, max %d, in %d of %d starts"
          % (statistics.median(waits), min(waits), max(waits),
             statistics.median(refused), max(refused),
             sum(1 for r in refused if r), runs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
