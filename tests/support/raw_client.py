#!/usr/bin/env python3
"""Raw HTTP/1.1 clients for the engine tests (tests/e2e/engine.sh).

Every command talks to HOST:PORT over plain sockets, so the bytes on the
wire are exactly the ones written here, and prints one JSON object on
stdout. Every wait is bounded (--timeout, seconds).

  seq HOST PORT N         N requests one after another on one connection
  pipeline HOST PORT N    N requests in one send() (then shutdown(SHUT_WR)
                          with --half-close), then N responses
  send HOST PORT FILE     the bytes of FILE (in --pieces, --gap s apart),
                          then one response
  slowloris HOST PORT     after --idle seconds, a request head one byte
                          every --gap seconds, until the server answers or
                          closes
  slowread HOST PORT PATH GET PATH with a small receive buffer, read at
                          --rate bytes/s; counts the body bytes
  many HOST PORT N        N connections at once, one request each
"""
import argparse
import json
import resource
import selectors
import socket
import sys
import time


def request(path, close=False, extra=b""):
    return (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
            (b"Connection: close\r\n" if close else b"") + extra + b"\r\n")


class Reader:
    """Responses off one socket; whatever follows one stays buffered."""

    def __init__(self, sock, deadline):
        self.sock = sock
        self.buf = b""
        self.deadline = deadline
        self.eof = False

    def fill(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def response(self):
        """(status, headers dict lower-case, body) or None at EOF/garbage."""
        while b"\r\n\r\n" not in self.buf:
            if not self.fill():
                return None
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        try:
            status = int(parts[1])
        except (IndexError, ValueError):
            return None
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode("latin-1")] = \
                value.strip().decode("latin-1")
        if "content-length" in headers:
            n = int(headers["content-length"])
            while len(self.buf) < n:
                if not self.fill():
                    return (status, headers, None)  # cut short
            body, self.buf = self.buf[:n], self.buf[n:]
        else:
            while self.fill():
                pass
            body, self.buf = self.buf, b""
        return (status, headers, body)

    def still_open(self, wait):
        """True when nothing (no EOF, no bytes) arrives within wait s."""
        if self.buf or self.eof:
            return False
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(1)
        except socket.timeout:
            return True
        except OSError:
            return False
        if data:
            self.buf += data
        return False


def agent_path(body):
    """The path the fake agent echoes in its JSON body."""
    try:
        return json.loads(body)["path"]
    except (TypeError, ValueError, KeyError):
        return None


def connect(args):
    return socket.create_connection((args.host, args.port),
                                    timeout=args.timeout)


def cmd_seq(args):
    deadline = time.monotonic() + args.timeout
    s = connect(args)
    rd = Reader(s, deadline)
    out = {"statuses": [], "paths": [], "connection": [], "complete": []}
    for i in range(args.n):
        s.sendall(request("/seq/%d" % i))
        r = rd.response()
        if r is None:
            out["statuses"].append(None)  # closed before a whole head
            break
        out["statuses"].append(r[0])
        out["complete"].append(r[2] is not None)
        if r[2] is None:
            break  # closed within the body
        out["paths"].append(agent_path(r[2]))
        out["connection"].append(r[1].get("connection"))
    out["open_after"] = rd.still_open(0.5)
    s.close()
    print(json.dumps(out))


def cmd_pipeline(args):
    deadline = time.monotonic() + args.timeout
    s = connect(args)
    rd = Reader(s, deadline)
    data = b"".join(request("/pipe/%d" % i) for i in range(args.n))
    s.sendall(data)  # one send: all heads in one segment
    if args.half_close:
        s.shutdown(socket.SHUT_WR)
    out = {"statuses": [], "paths": []}
    for _ in range(args.n):
        r = rd.response()
        if r is None:
            break
        out["statuses"].append(r[0])
        out["paths"].append(agent_path(r[2]))
    out["open_after"] = rd.still_open(0.5)
    s.close()
    print(json.dumps(out))


def cmd_send(args):
    deadline = time.monotonic() + args.timeout
    with open(args.file, "rb") as f:
        data = f.read()
    s = connect(args)
    n = max(1, args.pieces)
    step = (len(data) + n - 1) // n
    for i in range(0, len(data), step or 1):
        s.sendall(data[i:i + step])
        if args.gap and i + step < len(data):
            time.sleep(args.gap)
    rd = Reader(s, deadline)
    out = {"status": None, "body_bytes": None, "path": None}
    try:
        r = rd.response()
    except TimeoutError:
        r = None
        out["timeout"] = True
    if r is not None:
        out["status"] = r[0]
        out["body_bytes"] = None if r[2] is None else len(r[2])
        out["path"] = agent_path(r[2])
        try:
            out["agent"] = json.loads(r[2])
        except (TypeError, ValueError):
            pass
    s.close()
    print(json.dumps(out))


def cmd_slowloris(args):
    head = (b"GET /slowloris HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " +
            b"a" * 10000)
    s = connect(args)
    start = time.monotonic()
    deadline = start + args.timeout
    got = b""
    sent = 0
    end = "timeout"
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    next_send = start + args.idle  # silent first, then one byte a gap
    while time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_send and sent < len(head):
            try:
                s.send(head[sent:sent + 1])
                sent += 1
            except OSError:
                end = "send failed"
                break
            next_send += args.gap
        wait = max(0.01, min(next_send, deadline) - time.monotonic())
        if sel.select(wait):
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                end = "closed"
                break
            got += data
    s.close()
    status = None
    if got.startswith(b"HTTP/1.1 "):
        try:
            status = int(got.split(b" ", 2)[1])
        except ValueError:
            pass
    print(json.dumps({"end": end, "status": status, "bytes_sent": sent,
                      "seconds": round(time.monotonic() - start, 2)}))


def cmd_slowread(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A fixed small receive buffer: the kernel cannot soak up the
    # response for us, so the proxy has to hold back its agent.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    s.settimeout(args.timeout)
    s.connect((args.host, args.port))
    start = time.monotonic()
    deadline = start + args.timeout
    s.sendall(request(args.path, close=True))
    buf = b""
    while b"\r\n\r\n" not in buf and time.monotonic() < deadline:
        data = s.recv(4096)
        if not data:
            break
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = None
    try:
        status = int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        pass
    total = len(rest)
    chunk = 16384
    pause = chunk / float(args.rate)
    end = "timeout"
    while time.monotonic() < deadline:
        try:
            data = s.recv(chunk)
        except socket.timeout:
            break
        except OSError:
            end = "error"
            break
        if not data:
            end = "closed"
            break
        total += len(data)
        time.sleep(pause * len(data) / chunk)
    s.close()
    print(json.dumps({"status": status, "body_bytes": total, "end": end,
                      "seconds": round(time.monotonic() - start, 2)}))


def cmd_many(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.n + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(want, hard) if hard != resource.RLIM_INFINITY
                            else want, hard))
    start = time.monotonic()
    deadline = start + args.timeout
    sel = selectors.DefaultSelector()
    conns = {}
    out = {"n": args.n, "statuses": {}, "errors": {}}

    def note(kind, key):
        d = out[kind]
        d[key] = d.get(key, 0) + 1

    for i in range(args.n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect_ex((args.host, args.port))
        except OSError as e:
            note("errors", "connect " + e.__class__.__name__)
            s.close()
            continue
        st = {"i": i, "req": request("/many/%d" % i, close=True),
              "buf": b"", "sent": False}
        conns[s] = st
        sel.register(s, selectors.EVENT_WRITE, st)
    done = 0
    while conns and time.monotonic() < deadline:
        for key, ev in sel.select(timeout=0.5):
            s, st = key.fileobj, key.data
            try:
                if ev & selectors.EVENT_WRITE and not st["sent"]:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise OSError(err, "connect")
                    s.sendall(st["req"])  # small: fits the send buffer
                    st["sent"] = True
                    sel.modify(s, selectors.EVENT_READ, st)
                    continue
                data = s.recv(65536)
            except OSError as e:
                note("errors", "%s %s" % ("recv" if st["sent"] else "connect",
                                          e.errno))
                sel.unregister(s)
                s.close()
                del conns[s]
                continue
            if data:
                st["buf"] += data
                continue
            # closed: one whole response?
            buf = st["buf"]
            head, sep, body = buf.partition(b"\r\n\r\n")
            status = "none"
            if buf.startswith(b"HTTP/1.1 ") and sep:
                status = buf.split(b" ", 2)[1].decode("latin-1")
                cl = [line.split(b":", 1)[1].strip()
                      for line in head.split(b"\r\n")[1:]
                      if line.lower().startswith(b"content-length:")]
                if cl and int(cl[0]) != len(body):
                    status += " cut"
            note("statuses", status)
            done += 1
            sel.unregister(s)
            s.close()
            del conns[s]
    for s in list(conns):
        note("errors", "unfinished")
        s.close()
    out["seconds"] = round(time.monotonic() - start, 2)
    print(json.dumps(out, sort_keys=True))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["seq", "pipeline", "send", "slowloris",
                                    "slowread", "many"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("arg", nargs="?")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--pieces", type=int, default=1)
    ap.add_argument("--gap", type=float, default=0.0)
    ap.add_argument("--idle", type=float, default=0.0)
    ap.add_argument("--half-close", action="store_true")
    ap.add_argument("--rcvbuf", type=int, default=65536)
    ap.add_argument("--rate", type=float, default=4 * 1024 * 1024)
    args = ap.parse_args()
    if args.cmd in ("seq", "pipeline", "many"):
        args.n = int(args.arg or 3)
    elif args.cmd == "send":
        args.file = args.arg
    elif args.cmd == "slowread":
        args.path = args.arg or "/big"
    {"seq": cmd_seq, "pipeline": cmd_pipeline, "send": cmd_send,
     "slowloris": cmd_slowloris, "slowread": cmd_slowread,
     "many": cmd_many}[args.cmd](args)


if __name__ == "__main__":
    try:
        main()
    except (OSError, TimeoutError) as e:
        print(json.dumps({"error": "%s: %s" % (e.__class__.__name__, e)}))
        sys.exit(1)
