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
  cases HOST PORT FILE    the attack tests' cases: FILE is JSON, a list of
                          {"name", "data" (latin-1 text of the bytes to
                          send), optional "pieces" and "gap"}; each case on
                          its own connection, all at once; reads until the
                          server closes or stays silent for --idle s and
                          reports every response status per case
  hold HOST PORT N        N connections held for --duration s: idle, or
                          with --request PATH a whole GET sent on each (with
                          --post: a POST of --size bytes that stops after
                          1 KiB of its body), or
                          with --drip a request head one byte every --gap s
                          (slowloris); reports how many the server closed,
                          when, and with which statuses
  blast HOST PORT FILE    --conns workers for --duration s, each sending the
                          bytes of FILE on a fresh connection and reading the
                          answer, again and again; counts the outcomes
  probe HOST PORT PATH    a normal client: GET PATH on a fresh connection
                          every --gap s for --duration s; counts statuses
                          and reports the slowest answer
  upload HOST PORT PATH   POST --size bytes to PATH with Content-Length,
                          streamed in 64 KiB blocks; reports the status
"""
import argparse
import json
import resource
import selectors
import socket
import sys
import threading
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


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(want, hard) if hard != resource.RLIM_INFINITY
                            else want, hard))


def statuses_of(buf):
    """The status of every whole or partial response in buf, in order."""
    out = []
    while buf.startswith(b"HTTP/"):
        head, sep, rest = buf.partition(b"\r\n\r\n")
        try:
            out.append(int(head.split(b" ", 2)[1]))
        except (IndexError, ValueError):
            out.append("garbage")
            break
        if not sep:
            break
        lines = head.split(b"\r\n")[1:]
        cl = [ln.split(b":", 1)[1].strip() for ln in lines
              if ln.lower().startswith(b"content-length:")]
        if cl:
            n = int(cl[0])
            if len(rest) < n:
                out[-1] = "%s cut" % out[-1]
                break
            buf = rest[n:]
        else:
            buf = b""  # to the close (or chunked: not from our proxies)
    if buf and not buf.startswith(b"HTTP/"):
        out.append("garbage")
    return out


def one_case(args, case, out):
    data = case["data"].encode("latin-1")
    res = {"statuses": [], "end": "idle", "sent": 0}
    try:
        s = socket.create_connection((args.host, args.port),
                                     timeout=args.timeout)
    except OSError as e:
        res["end"] = "connect %s" % e.__class__.__name__
        out[case["name"]] = res
        return
    n = max(1, case.get("pieces", 1))
    step = max(1, (len(data) + n - 1) // n)
    try:
        for i in range(0, len(data), step):
            s.sendall(data[i:i + step])
            res["sent"] += len(data[i:i + step])
            if case.get("gap") and i + step < len(data):
                time.sleep(case["gap"])
    except OSError as e:
        res["send_error"] = e.__class__.__name__
    buf = b""
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        s.settimeout(args.idle or 1.0)
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        except OSError as e:
            res["end"] = "reset" if isinstance(e, ConnectionResetError) \
                else e.__class__.__name__
            break
        if not data:
            res["end"] = "closed"
            break
        buf += data
    s.close()
    res["statuses"] = statuses_of(buf)
    res["raw"] = buf[:300].decode("latin-1")
    out[case["name"]] = res


def cmd_cases(args):
    with open(args.file) as f:
        cases = json.load(f)
    out = {}
    threads = [threading.Thread(target=one_case, args=(args, c, out))
               for c in cases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(out, sort_keys=True))


def cmd_hold(args):
    raise_nofile(args.n)
    start = time.monotonic()
    deadline = start + args.duration
    sel = selectors.DefaultSelector()
    if args.request and args.post:
        # A body announced and never finished: 1 KiB of --size, then silence.
        payload = (b"POST " + args.request.encode() + b" HTTP/1.1\r\n"
                   b"Host: 127.0.0.1\r\nContent-Length: " +
                   str(args.size).encode() + b"\r\nConnection: close"
                   b"\r\n\r\n" + b"p" * min(1024, args.size - 1))
    elif args.request:
        payload = request(args.request, close=True)
    elif args.drip:
        payload = (b"GET /loris HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " +
                   b"a" * 100000)
    else:
        payload = b""
    conns = {}
    out = {"n": args.n, "connected": 0, "closed": 0, "statuses": {},
           "errors": {}}

    def note(kind, key):
        out[kind][key] = out[kind].get(key, 0) + 1

    for i in range(args.n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((args.host, args.port))
        st = {"sent": 0, "buf": b"", "up": False, "next": 0.0}
        conns[s] = st
        sel.register(s, selectors.EVENT_WRITE, st)
    close_times = []
    while time.monotonic() < deadline and conns:
        now = time.monotonic()
        for key, ev in sel.select(timeout=0.05):
            s, st = key.fileobj, key.data
            try:
                if ev & selectors.EVENT_WRITE and not st["up"]:
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise OSError(err, "connect")
                    st["up"] = True
                    out["connected"] += 1
                    if args.request:
                        s.sendall(payload)
                        st["sent"] = len(payload)
                    st["next"] = now
                    sel.modify(s, selectors.EVENT_READ, st)
                    continue
                data = s.recv(65536)
            except OSError as e:
                data = None
                note("errors", "reset" if e.errno == 104 else
                     "errno %s" % e.errno)
            if data:
                st["buf"] += data
                continue
            # the server closed (or reset) this one
            close_times.append(round(time.monotonic() - start, 2))
            out["closed"] += 1
            for code in statuses_of(st["buf"]) or ["none"]:
                note("statuses", str(code))
            sel.unregister(s)
            s.close()
            del conns[s]
        if args.drip:
            now = time.monotonic()
            for s, st in conns.items():
                if st["up"] and now >= st["next"] and \
                        st["sent"] < len(payload):
                    try:
                        st["sent"] += s.send(payload[st["sent"]:
                                                     st["sent"] + 1])
                    except OSError:
                        pass
                    st["next"] = now + args.gap
    out["open_at_end"] = len(conns)
    for s in list(conns):
        s.close()
    close_times.sort()
    if close_times:
        out["first_close"] = close_times[0]
        out["median_close"] = close_times[len(close_times) // 2]
        out["last_close"] = close_times[-1]
    out["seconds"] = round(time.monotonic() - start, 2)
    print(json.dumps(out, sort_keys=True))


def cmd_blast(args):
    with open(args.file, "rb") as f:
        data = f.read()
    deadline = time.monotonic() + args.duration
    out = {"rounds": 0, "statuses": {}}
    lock = threading.Lock()

    def note(key):
        with lock:
            out["rounds"] += 1
            out["statuses"][key] = out["statuses"].get(key, 0) + 1

    def worker():
        while time.monotonic() < deadline:
            buf = b""
            end = ""
            try:
                s = socket.create_connection((args.host, args.port),
                                             timeout=5)
            except OSError as e:
                note("connect " + e.__class__.__name__)
                time.sleep(0.05)
                continue
            try:
                try:
                    s.sendall(data)
                except OSError:
                    end = " (send cut)"
                s.settimeout(max(0.1, deadline - time.monotonic() + 5))
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
            except socket.timeout:
                end += " (timeout)"
            except OSError as e:
                end += " (%s)" % ("reset" if isinstance(
                    e, ConnectionResetError) else e.__class__.__name__)
            finally:
                s.close()
            st = statuses_of(buf)
            note(("%s" % st[0] if st else "none") + end)

    threads = [threading.Thread(target=worker) for _ in range(args.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(out, sort_keys=True))


def cmd_probe(args):
    start = time.monotonic()
    deadline = start + args.duration
    out = {"statuses": {}, "slowest_ms": 0, "n": 0}
    lat = []
    i = 0
    while time.monotonic() < deadline:
        t0 = time.monotonic()
        code = "none"
        try:
            s = socket.create_connection((args.host, args.port),
                                         timeout=args.timeout)
            s.sendall(request("%s/%d" % (args.path, i), close=True))
            rd = Reader(s, t0 + args.timeout)
            r = rd.response()
            if r is not None:
                code = str(r[0]) + ("" if r[2] is not None else " cut")
            s.close()
        except (OSError, TimeoutError) as e:
            code = e.__class__.__name__
        ms = int((time.monotonic() - t0) * 1000)
        lat.append(ms)
        out["statuses"][code] = out["statuses"].get(code, 0) + 1
        out["n"] += 1
        i += 1
        time.sleep(max(0.0, args.gap - (time.monotonic() - t0)))
    lat.sort()
    if lat:
        out["slowest_ms"] = lat[-1]
        out["median_ms"] = lat[len(lat) // 2]
    print(json.dumps(out, sort_keys=True))


def cmd_upload(args):
    start = time.monotonic()
    s = socket.create_connection((args.host, args.port),
                                 timeout=args.timeout)
    s.sendall(b"POST " + args.path.encode() + b" HTTP/1.1\r\n"
              b"Host: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
              b"Content-Length: " + str(args.size).encode() +
              b"\r\nConnection: close\r\n\r\n")
    block = b"u" * 65536
    sent = 0
    out = {"size": args.size}
    try:
        while sent < args.size:
            k = min(len(block), args.size - sent)
            s.sendall(block[:k])
            sent += k
    except OSError as e:
        out["send_error"] = e.__class__.__name__
    out["sent"] = sent
    rd = Reader(s, start + args.timeout)
    try:
        r = rd.response()
        out["status"] = None if r is None else r[0]
    except (OSError, TimeoutError) as e:
        out["status"] = None
        out["error"] = e.__class__.__name__
    s.close()
    out["seconds"] = round(time.monotonic() - start, 2)
    print(json.dumps(out, sort_keys=True))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["seq", "pipeline", "send", "slowloris",
                                    "slowread", "many", "cases", "hold",
                                    "blast", "probe", "upload"])
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
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--request")
    ap.add_argument("--drip", action="store_true")
    ap.add_argument("--post", action="store_true")
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--size", type=int, default=1048576)
    args = ap.parse_args()
    if args.cmd in ("seq", "pipeline", "many", "hold"):
        args.n = int(args.arg or 3)
    elif args.cmd in ("send", "cases", "blast"):
        args.file = args.arg
    elif args.cmd in ("slowread", "probe", "upload"):
        args.path = args.arg or "/big"
    {"seq": cmd_seq, "pipeline": cmd_pipeline, "send": cmd_send,
     "slowloris": cmd_slowloris, "slowread": cmd_slowread,
     "many": cmd_many, "cases": cmd_cases, "hold": cmd_hold,
     "blast": cmd_blast, "probe": cmd_probe,
     "upload": cmd_upload}[args.cmd](args)


if __name__ == "__main__":
    try:
        main()
    except (OSError, TimeoutError) as e:
        print(json.dumps({"error": "%s: %s" % (e.__class__.__name__, e)}))
        sys.exit(1)
