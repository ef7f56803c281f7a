#!/usr/bin/env python3
"""A fake metadata agent on a unix socket, for the demo and the tests.

It answers like a metadata service (200, JSON body) and records every
request it receives (method, path, headers in order with their spelling,
body, size of the head) as one JSON line in --record. Modes:
  normal   read the whole request (head, then Content-Length or chunked body)
  neutron  read the request with one recv(4096), as neutron's agent does
  slow     like normal, but wait --delay seconds before answering
  close    send half a response, then close the connection
Prints "ready" on stdout once it accepts. Ends on SIGTERM or SIGINT.
"""
import argparse
import json
import os
import signal
import socket
import sys
import threading
import time

HEAD_MAX = 65536


def parse_head(head):
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    method, target, version = (parts + [b"", b"", b""])[:3]
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(b":")
        headers.append([name.decode("latin-1"),
                        value.strip().decode("latin-1")])
    return method.decode("latin-1"), target.decode("latin-1"), \
        version.decode("latin-1"), headers


def header(headers, name):
    for n, v in headers:
        if n.lower() == name:
            return v
    return None


def read_body(conn, rest, headers):
    te = header(headers, "transfer-encoding")
    if te is not None and "chunked" in te.lower():
        data = rest
        while b"0\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        return data
    length = int(header(headers, "content-length") or 0)
    data = rest
    while len(data) < length:
        chunk = conn.recv(min(65536, length - len(data)))
        if not chunk:
            break
        data += chunk
    return data


class Agent:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()

    def record(self, entry):
        if not self.args.record:
            return
        with self.lock, open(self.args.record, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def serve(self, conn):
        try:
            self.handle(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def handle(self, conn):
        conn.settimeout(30)
        if self.args.mode == "neutron":
            data = conn.recv(4096)
            head, sep, rest = data.partition(b"\r\n\r\n")
            truncated = not sep
            body = rest
        else:
            data = b""
            while b"\r\n\r\n" not in data and len(data) < HEAD_MAX:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            truncated = False
            body = None
        method, path, version, headers = parse_head(head)
        if body is None:
            body = read_body(conn, rest, headers)
        entry = {"method": method, "path": path, "version": version,
                 "headers": headers, "head_bytes": len(head) + 4,
                 "truncated": truncated,
                 "body_bytes": len(body)}
        self.record(entry)
        if self.args.mode == "slow":
            time.sleep(self.args.delay)
        payload = json.dumps(entry).encode()
        if self.args.mode == "close":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n"
                         b"\r\n" + payload[:10])
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json"
                     b"\r\nContent-Length: " + str(len(payload)).encode() +
                     b"\r\nConnection: close\r\n\r\n" + payload)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--record")
    ap.add_argument("--mode", default="normal",
                    choices=["normal", "neutron", "slow", "close"])
    ap.add_argument("--delay", type=float, default=5.0)
    args = ap.parse_args()

    try:
        os.unlink(args.socket)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(args.socket)
    os.chmod(args.socket, 0o666)
    srv.listen(128)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    agent = Agent(args)
    print("ready", flush=True)
    try:
        while True:
            conn, _ = srv.accept()
            threading.Thread(target=agent.serve, args=(conn,),
                             daemon=True).start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        srv.close()
        try:
            os.unlink(args.socket)
        except FileNotFoundError:
            pass


if __name__ == "__main__":
    main()
