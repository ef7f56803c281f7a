#!/usr/bin/env python3
"""A fake metadata agent on a unix socket, for the demo and the tests.

It answers like a metadata service (200, JSON body) and records every
request it receives (method, path, headers in order with their spelling,
body, size of the head) as one JSON line in --record. Modes:
  normal   read the whole request (head, then Content-Length or chunked body)
  neutron  read the request with one recv(4096), as neutron's agent does
  slow     like normal, but wait --delay seconds before answering
  close    send half a response, then close the connection
  attack   a greedy agent for the attack tests: it reads every request on a
           connection until the proxy closes it (ignoring Connection: close,
           as a careless keep-alive backend would), frames bodies as RFC 9112
           says (chunked when Transfer-Encoding ends in chunked, else
           Content-Length), and records each request with its connection
           number, raw head and raw body; bytes it cannot take as a request
           are recorded too ("leftover", "bad"). So a request smuggled past
           the proxy shows up as a record. By path: /hang... is never
           answered (held until the proxy closes, at most --delay s),
           /rst... gets part of a response and then a reset (SO_LINGER 0),
           /slowbody... has its body read at --rate bytes/s, /resp/bighead,
           /resp/nul and /resp/lf get a 70 KB head, a NUL in a header
           value, a header line ended by a bare LF. --status FILE
           holds the number of connections open at any moment.
  burst    like normal, for bursts and big answers: waits --delay seconds
           (default 0 here) before answering; --big-response BYTES answers
           with a body of BYTES bytes, written as fast as the socket takes
           it; the listen backlog is --backlog (4096 here) and the fd limit
           is raised, so a burst of connections tests the proxy, not us.
           Each record also has "active", how many connections the agent
           held at that moment, and "peak", the most it ever held (a
           connection counts from accept to just before the answer is
           written, so a proxy's next connection never overlaps the one it
           just finished).
Prints "ready" on stdout once it accepts. Ends on SIGTERM or SIGINT.
"""
import argparse
import hashlib
import json
import errno
import os
import resource
import signal
import socket
import struct
import sys
import threading
import time

HEAD_MAX = 65536
RAW_MAX = 65536  # attack mode keeps at most this much of a body verbatim
BLOCK = b"x" * 65536


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


# Attack mode: answers an agent should never give, by path.
BAD_RESPONSES = {
    # a 70 KB head
    "/resp/bighead": b"HTTP/1.1 200 OK\r\n" +
    (b"X-Pad: " + b"a" * 1000 + b"\r\n") * 70 +
    b"Content-Length: 2\r\nConnection: close\r\n\r\nok",
    # a NUL inside a header value
    "/resp/nul": b"HTTP/1.1 200 OK\r\nX-A: b\x00c\r\n"
    b"Content-Length: 2\r\nConnection: close\r\n\r\nok",
    # a header line ended by a bare LF
    "/resp/lf": b"HTTP/1.1 200 OK\r\nSet-Cookie: a=b\n"
    b"Content-Length: 2\r\nConnection: close\r\n\r\nok",
}


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

    def accepted(self):
        """A connection was just accepted (before its thread starts)."""

    def handle(self, conn):
        conn.settimeout(30)
        entry = self.read(conn)
        if entry is None:
            return
        self.record(entry)
        if self.args.mode == "slow":
            time.sleep(self.args.delay)
        payload = json.dumps(entry).encode()
        if self.args.mode == "close":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n"
                         b"\r\n" + payload[:10])
            return
        self.answer(conn, payload)

    def answer(self, conn, payload):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json"
                     b"\r\nContent-Length: " + str(len(payload)).encode() +
                     b"\r\nConnection: close\r\n\r\n" + payload)

    def read(self, conn):
        """One request, as the record's entry; None at EOF before a head."""
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
                    return None
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            truncated = False
            body = None
        method, path, version, headers = parse_head(head)
        if body is None:
            body = read_body(conn, rest, headers)
        return {"method": method, "path": path, "version": version,
                "headers": headers, "head_bytes": len(head) + 4,
                "truncated": truncated,
                "body_bytes": len(body)}


class BurstAgent(Agent):
    """--mode burst: see the module's description."""

    def __init__(self, args):
        super().__init__(args)
        self.active = 0
        self.peak = 0

    def count(self, delta):
        with self.lock:
            self.active += delta
            self.peak = max(self.peak, self.active)
            return self.active

    def accepted(self):
        self.count(1)

    def serve(self, conn):
        held = [True]
        try:
            self.burst(conn, held)
        except OSError:
            pass
        finally:
            if held[0]:
                self.count(-1)
            conn.close()

    def burst(self, conn, held):
        conn.settimeout(60)
        entry = self.read(conn)
        if entry is None:
            return
        entry["active"] = self.count(0)
        entry["peak"] = self.peak
        self.record(entry)
        if self.args.delay > 0:
            time.sleep(self.args.delay)
        held[0] = False
        self.count(-1)
        n = self.args.big_response
        if n == 0:
            self.answer(conn, json.dumps(entry).encode())
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: "
                     b"application/octet-stream\r\nContent-Length: " +
                     str(n).encode() + b"\r\nConnection: close\r\n\r\n")
        while n > 0:
            k = min(n, len(BLOCK))
            conn.sendall(BLOCK[:k])
            n -= k


class Bad(Exception):
    pass


class Conn:
    """Bytes off one agent connection; EOF or the idle timeout end it."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self, n=65536):
        try:
            data = self.sock.recv(n)
        except socket.timeout:
            data = b""
        except OSError:
            data = b""
        if not data:
            return False
        self.buf += data
        return True

    def line(self):
        while b"\n" not in self.buf:
            if len(self.buf) > HEAD_MAX or not self.fill():
                raise Bad("line cut short")
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def take(self, n, body, rate=0.0):
        """Move n bytes into body (a Body), at rate bytes/s if set."""
        start = time.monotonic()
        done = 0
        while done < n:
            if not self.buf and not self.fill(min(65536, n - done)):
                raise Bad("body cut short")
            k = min(len(self.buf), n - done)
            body.add(self.buf[:k])
            self.buf = self.buf[k:]
            done += k
            if rate > 0:
                ahead = done / rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)


class Body:
    def __init__(self):
        self.n = 0
        self.raw = b""
        self.sha = hashlib.sha256()

    def add(self, b):
        self.n += len(b)
        self.sha.update(b)
        if len(self.raw) < RAW_MAX:
            self.raw += b[:RAW_MAX - len(self.raw)]


def framing(headers):
    """("chunked"|"length"|"none", length) as RFC 9112 6.3 says."""
    te = [v for n, v in headers if n.strip().lower() == "transfer-encoding"]
    cl = [v for n, v in headers if n.strip().lower() == "content-length"]
    if te:
        codings = [c.strip().lower() for c in ",".join(te).split(",")
                   if c.strip()]
        if not codings or codings[-1] != "chunked":
            raise Bad("transfer-encoding without chunked last")
        return "chunked", 0
    if cl:
        vals = {v.strip() for v in ",".join(cl).split(",")}
        if len(vals) != 1 or not all(c in "0123456789" for c in
                                     next(iter(vals))) or not next(iter(vals)):
            raise Bad("bad content-length")
        return "length", int(next(iter(vals)))
    return "none", 0


class AttackAgent(Agent):
    def __init__(self, args):
        super().__init__(args)
        self.nconn = 0
        self.active = 0

    def count(self, delta):
        with self.lock:
            if delta > 0:
                self.nconn += 1
            self.active += delta
            n, active = self.nconn, self.active
            if self.args.status:
                tmp = self.args.status + ".tmp"
                with open(tmp, "w") as f:
                    f.write("%d\n" % active)
                os.replace(tmp, self.args.status)
        return n

    def serve(self, conn):
        cid = self.count(1)
        try:
            self.attack(conn, cid)
        except OSError:
            pass
        finally:
            conn.close()
            self.count(-1)

    def attack(self, sock, cid):
        sock.settimeout(self.args.idle)
        c = Conn(sock)
        seq = 0
        while True:
            while b"\r\n\r\n" not in c.buf and len(c.buf) <= HEAD_MAX:
                if not c.fill():
                    break
            if b"\r\n\r\n" not in c.buf:
                if c.buf:
                    self.record({"kind": "leftover", "conn": cid,
                                 "seq": seq, "bytes": len(c.buf),
                                 "data": c.buf[:4096].decode("latin-1")})
                return
            head, _, c.buf = c.buf.partition(b"\r\n\r\n")
            method, path, version, headers = parse_head(head)
            entry = {"kind": "request", "conn": cid, "seq": seq,
                     "method": method, "path": path, "version": version,
                     "headers": headers, "head_bytes": len(head) + 4,
                     "head_raw": head.decode("latin-1"), "truncated": False}
            body = Body()
            try:
                kind, n = framing(headers)
                entry["framing"] = kind
                rate = self.args.rate if "/slowbody" in path else 0.0
                if kind == "length":
                    c.take(n, body, rate)
                elif kind == "chunked":
                    self.chunked(c, body)
            except Bad as e:
                entry["kind"] = "bad"
                entry["reason"] = str(e)
                entry["data"] = c.buf[:4096].decode("latin-1")
            entry["body_bytes"] = body.n
            entry["body_sha256"] = body.sha.hexdigest()
            entry["body_raw"] = body.raw.decode("latin-1")
            self.record(entry)
            if entry["kind"] == "bad":
                sock.sendall(b"HTTP/1.1 400 Bad Request\r\n"
                             b"Content-Length: 0\r\nConnection: close"
                             b"\r\n\r\n")
                return
            if "/hang" in path:
                sock.settimeout(self.args.delay)
                while c.fill():
                    pass
                return
            if "/rst" in path:
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000"
                             b"\r\n\r\n" + b"r" * 1000)
                time.sleep(0.02)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                struct.pack("ii", 1, 0))
                return
            bad = BAD_RESPONSES.get(path.split("?")[0])
            if bad is not None:
                sock.sendall(bad)
                return
            payload = json.dumps({"path": path, "conn": cid,
                                  "seq": seq}).encode()
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: "
                         b"application/json\r\nContent-Length: " +
                         str(len(payload)).encode() + b"\r\n\r\n" + payload)
            seq += 1

    def chunked(self, c, body):
        while True:
            line = c.line()
            body.add(line)
            size = line.split(b";", 1)[0].strip()
            if not size or not all(ch in b"0123456789abcdefABCDEF"
                                   for ch in size) or len(size) > 15:
                raise Bad("bad chunk size")
            n = int(size, 16)
            if n == 0:
                break
            c.take(n, body)
            crlf = c.line()
            body.add(crlf)
            if crlf not in (b"\r\n", b"\n"):
                raise Bad("chunk data not followed by a line end")
        while True:  # trailers, then the empty line
            line = c.line()
            body.add(line)
            if line in (b"\r\n", b"\n"):
                return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--record")
    ap.add_argument("--mode", default="normal",
                    choices=["normal", "neutron", "slow", "close",
                             "attack", "burst"])
    ap.add_argument("--delay", type=float,
                    help="seconds; default 5, 0 in burst mode")
    ap.add_argument("--big-response", type=int, default=0,
                    help="burst mode: answer with a body of this many bytes")
    ap.add_argument("--backlog", type=int,
                    help="listen backlog; default 128, attack 1024, "
                    "burst 4096")
    ap.add_argument("--rate", type=float, default=1048576.0,
                    help="attack mode: /slowbody bytes per second")
    ap.add_argument("--idle", type=float, default=2.0,
                    help="attack mode: end a connection idle this long")
    ap.add_argument("--status", help="attack mode: open connections here")
    args = ap.parse_args()
    if args.delay is None:
        args.delay = 0.0 if args.mode == "burst" else 5.0
    if args.backlog is None:
        args.backlog = {"attack": 1024, "burst": 4096}.get(args.mode, 128)

    if args.mode == "burst":
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
    agent = {"attack": AttackAgent, "burst": BurstAgent}.get(
        args.mode, Agent)(args)
    if args.mode == "attack":
        agent.count(0)
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
            agent.accepted()
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
