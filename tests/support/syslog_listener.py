#!/usr/bin/env python3
"""A stand-in for the node's syslog daemon (journald, rsyslog), for the tests.

Binds a unix datagram socket at --socket (mode 0666, as /dev/log is, so a
proxy that dropped its privileges can still log) and appends each datagram
it receives as one line to --output: decoded as UTF-8 with undecodable
bytes shown as \\xNN, its trailing newlines and NULs stripped, flushed at
once so a test can read a line as soon as it was sent. A line looks like
what syslog(3) sends: "<PRI>Mon DD HH:MM:SS TAG[PID]: message".
Prints "ready" on stdout once bound. Ends on SIGTERM or SIGINT, removing
the socket it bound.

usage: syslog_listener.py --socket PATH --output FILE
"""
import argparse
import os
import signal
import socket
import sys

DGRAM_MAX = 65536  # syslog(3) sends at most a few kB a message


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--output", required=True)
    args = ap.parse_args()

    # SystemExit unwinds through the finally below, which removes the socket.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    old = os.umask(0o111)
    try:
        s.bind(args.socket)
    finally:
        os.umask(old)
    try:
        # umask only narrows: make the mode exact whatever the caller's was.
        os.chmod(args.socket, 0o666)
        with open(args.output, "a", encoding="utf-8") as out:
            print("ready", flush=True)
            while True:
                # Blocks until a datagram comes: no polling, no busy loop.
                data = s.recv(DGRAM_MAX)
                line = data.decode("utf-8", "backslashreplace")
                out.write(line.rstrip("\n\0") + "\n")
                out.flush()
    finally:
        s.close()
        try:
            os.unlink(args.socket)
        except OSError:
            pass


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
