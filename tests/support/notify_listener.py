#!/usr/bin/env python3
"""A stand-in for systemd's notification socket, for the tests.

Binds a unix datagram socket at --socket (the value a service gets in
$NOTIFY_SOCKET) and writes each message it receives as one JSON line to
--record: the sender's pid (SO_PASSCRED), the time it arrived (unix
seconds), the message's fields and, with --probe-port, whether
127.0.0.1:PORT accepted a connection at the moment READY=1 arrived.
Prints "ready" once bound. Ends on SIGTERM or SIGINT.
"""
import argparse
import json
import signal
import socket
import struct
import sys
import time


def probe(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--probe-port", type=int)
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    s.bind(args.socket)
    print("ready", flush=True)
    creds_size = socket.CMSG_SPACE(struct.calcsize("3i"))
    with open(args.record, "a", encoding="utf-8") as rec:
        while True:
            data, anc, _, _ = s.recvmsg(4096, creds_size)
            pid = None
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and \
                        kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", payload[:12])[0]
            fields = {}
            for line in data.decode("utf-8", "replace").split("\n"):
                if "=" in line:
                    k, _, v = line.partition("=")
                    fields[k] = v
            entry = {"pid": pid, "time": time.time(), "fields": fields}
            if args.probe_port and fields.get("READY") == "1":
                entry["port_open"] = probe(args.probe_port)
            rec.write(json.dumps(entry) + "\n")
            rec.flush()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
