#!/usr/bin/env python3
"""The slow-body flood of the hardening tests, with a normal client beside it.

  slow_body_flood.py PORT --conns N --length CL --seconds S

From 127.0.0.1: N connections to 127.0.0.1:PORT, each sending a POST head
with Content-Length CL, then one body byte every --gap (1.2) seconds; a
connection the proxy cuts is opened again, so N stay in flight for S
seconds. Meanwhile a normal client from 127.0.0.2 (another address) sends
GET /probe on a fresh connection every S/10 seconds, 10 in all, each
waiting --timeout (5) seconds at most. Prints one JSON object: the normal
client's statuses, how many attacking connections the proxy ended, and the
statuses the attackers read. Every wait is bounded.
"""
import argparse
import json
import resource
import socket
import threading
import time


def status_of(data):
    if data.startswith(b"HTTP/1.") and len(data) >= 12:
        return data[9:12].decode("latin-1")
    return "none"


def probe(port, seconds, timeout, out):
    gap = seconds / 10.0
    for _ in range(10):
        t0 = time.monotonic()
        st = "none"
        try:
            s = socket.socket()
            s.settimeout(timeout)
            s.bind(("127.0.0.2", 0))
            s.connect(("127.0.0.1", port))
            s.sendall(b"GET /probe HTTP/1.1\r\nHost: 169.254.169.254\r\n"
                      b"Connection: close\r\n\r\n")
            data = b""
            while len(data) < 12:
                x = s.recv(4096)
                if not x:
                    break
                data += x
            st = status_of(data)
            s.close()
        except OSError as e:
            st = e.__class__.__name__
        out[st] = out.get(st, 0) + 1
        time.sleep(max(0.0, gap - (time.monotonic() - t0)))


def opener(port, head):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    return [s, head, 0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--conns", type=int, default=1100)
    ap.add_argument("--length", type=int, default=100000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--gap", type=float, default=1.2)
    ap.add_argument("--timeout", type=float, default=5.0)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, a.conns + 256) if hard != resource.RLIM_INFINITY \
        else a.conns + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    head = (b"POST /slow HTTP/1.1\r\nHost: 169.254.169.254\r\n"
            b"Content-Length: %d\r\n\r\n" % a.length)
    normal = {}
    th = threading.Thread(target=probe,
                          args=(a.port, a.seconds, a.timeout, normal))
    th.start()
    end = time.monotonic() + a.seconds
    conns, cut, seen, opened = [], 0, {}, 0
    while time.monotonic() < end:
        while len(conns) < a.conns:
            try:
                conns.append(opener(a.port, head))
                opened += 1
            except OSError:
                break
        time.sleep(0.05)
        keep = []
        for c in conns:
            s = c[0]
            try:
                if c[1]:
                    n = s.send(c[1])
                    c[1] = c[1][n:]
                else:
                    s.send(b"a")
                keep.append(c)
            except BlockingIOError:
                keep.append(c)
            except OSError:
                cut += 1
                try:
                    s.setblocking(True)
                    s.settimeout(0.01)
                    st = status_of(s.recv(64))
                except OSError:
                    st = "none"
                seen[st] = seen.get(st, 0) + 1
                s.close()
        conns = keep
        time.sleep(max(0.0, min(a.gap, end - time.monotonic())))
    th.join(a.timeout * 12)
    for c in conns:
        c[0].close()
    print(json.dumps({"normal": normal, "attack_opened": opened,
                      "attack_cut": cut, "attack_saw": seen},
                     sort_keys=True))


if __name__ == "__main__":
    main()
