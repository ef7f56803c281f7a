#!/usr/bin/env python3
"""A metadata agent on a unix socket for the engine tests.

Like fake_agent.py in normal mode (reads the head and a Content-Length or
chunked body, records one JSON line per request in --record, answers 200
with the record as JSON), plus:
  --big-response BYTES  answer with a body of BYTES bytes instead, written
                        as fast as the socket takes it
  --backlog N           the listen backlog (fake_agent.py's is 128), so a
                        burst of connections tests the proxy, not us
  --delay SECONDS       wait that long before answering
Each record also has "active", how many connections the agent held at
that moment, and "peak", the most it ever held (a connection counts from
accept to just before the answer is written, so a proxy's next connection
never overlaps the one it just finished).
Prints "ready" on stdout once it accepts. Ends on SIGTERM or SIGINT.
"""
import argparse
import json
import errno
import os
import resource
import signal
import socket
import sys
import threading
import time

HEAD_MAX = 65536
BLOCK = b"x" * 65536


def header(headers, name):
    for n, v in headers:
        if n.lower() == name:
            return v
    return None


class Agent:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0

    def record(self, entry):
        if self.args.record:
            with self.lock, open(self.args.record, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def count(self, delta):
        with self.lock:
            self.active += delta
            self.peak = max(self.peak, self.active)
            return self.active

    def serve(self, conn):
        held = [True]
        try:
            self.handle(conn, held)
        except OSError:
            pass
        finally:
            if held[0]:
                self.count(-1)
            conn.close()

    def release(self, held):
        held[0] = False
        self.count(-1)

    def handle(self, conn, held):
        conn.settimeout(60)
        data = b""
        while b"\r\n\r\n" not in data and len(data) < HEAD_MAX:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        parts = (lines[0].split(b" ") + [b"", b"", b""])[:3]
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.append([name.decode("latin-1"),
                            value.strip().decode("latin-1")])
        te = header(headers, "transfer-encoding")
        if te is not None and "chunked" in te.lower():
            while b"0\r\n\r\n" not in body:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
        else:
            length = int(header(headers, "content-length") or 0)
            while len(body) < length:
                chunk = conn.recv(min(65536, length - len(body)))
                if not chunk:
                    break
                body += chunk
        entry = {"method": parts[0].decode("latin-1"),
                 "path": parts[1].decode("latin-1"),
                 "version": parts[2].decode("latin-1"),
                 "headers": headers, "head_bytes": len(head) + 4,
                 "truncated": False, "body_bytes": len(body),
                 "active": self.count(0), "peak": self.peak}
        self.record(entry)
        if self.args.delay > 0:
            time.sleep(self.args.delay)
        self.release(held)
        n = self.args.big_response
        if n > 0:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: "
                         b"application/octet-stream\r\nContent-Length: " +
                         str(n).encode() + b"\r\nConnection: close\r\n\r\n")
            while n > 0:
                k = min(n, len(BLOCK))
                conn.sendall(BLOCK[:k])
                n -= k
            return
        payload = json.dumps(entry).encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json"
                     b"\r\nContent-Length: " + str(len(payload)).encode() +
                     b"\r\nConnection: close\r\n\r\n" + payload)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--record")
    ap.add_argument("--big-response", type=int, default=0)
    ap.add_argument("--backlog", type=int, default=4096)
    ap.add_argument("--delay", type=float, default=0.0)
    args = ap.parse_args()

    # One descriptor per connection held: as many as we may have.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (hard if hard != resource.RLIM_INFINITY
                            else max(soft, 65536), hard))
    try:
        os.unlink(args.socket)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(args.socket)
    os.chmod(args.socket, 0o666)
    srv.listen(args.backlog)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    agent = Agent(args)
    print("ready", flush=True)
    try:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError as e:
                if e.errno not in (errno.EMFILE, errno.ENFILE, errno.EAGAIN,
                                   errno.ENOBUFS, errno.ENOMEM):
                    raise
                time.sleep(0.05)  # out of descriptors: they come back
                continue
            agent.count(1)
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
