#!/usr/bin/python3
"""Start a proxy command again and again; time it until it serves; measure it.

usage: startup.py --runs N --port PORT [--deadline SECONDS] [--listen-fd N]
                  -- COMMAND...

With --listen-fd, each run binds 127.0.0.1:PORT itself, listening, and
starts COMMAND with that socket at descriptor N, as ns-metadata-proxy starts
haproxy on a config whose listener is `bind fd@N`: connections are then
accepted (queued) from the start, and the time to the first response is
what tells when the proxy serves.

Each run: check that nothing answers on 127.0.0.1:PORT, start COMMAND (its
output discarded), then poll every millisecond, at most until the deadline:
connect to 127.0.0.1:PORT, and once a connection is accepted send one
malformed request line, which haproxy answers by itself with 400. Recorded:
milliseconds from the start to the first accepted connection and to the
first response, and Rss and Pss (kB) of the started process from
/proc/PID/smaps_rollup once it answers. Then the started process (by its pid,
which is the proxy's: COMMAND must stay in the foreground and exec the proxy
in place) is sent SIGTERM, after 5 s SIGKILL, and waited for.

Prints one JSON object: the lists and their medians. Exit status 0; 3 when
COMMAND exited before it accepted a connection on the first run (it does not
start a proxy); 1 on any other failure.
"""

import errno
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

POLL_INTERVAL = 0.001
STOP_WAIT = 5.0
PROBE = b"x\r\n\r\n"


class NotAProxy(Exception):
    pass


def connect(port, timeout):
    """A connected socket, or None when nothing accepts yet."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(("127.0.0.1", port))
        return s
    except OSError as e:
        s.close()
        if e.errno in (errno.ECONNREFUSED, errno.ECONNRESET) or isinstance(
            e, socket.timeout
        ):
            return None
        raise


def answers(s, timeout):
    """Whether the peer answers the probe with an HTTP status line."""
    s.settimeout(timeout)
    try:
        s.sendall(PROBE)
        return s.recv(16).startswith(b"HTTP/1.")
    except OSError:
        return False
    finally:
        s.close()


def memory_kb(pid):
    found = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss"):
                found[key] = int(rest.split()[0])
    return found["Rss"], found["Pss"]


def stop(proc):
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_WAIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_WAIT)


def bound_listener(port, fd):
    """127.0.0.1:port, listening, at descriptor fd (inheritable)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(1024)
    if s.fileno() == fd:
        os.set_inheritable(fd, True)
        return s, None
    os.dup2(s.fileno(), fd)
    return s, fd


def one_run(cmd, port, deadline, listen_fd):
    probe = connect(port, 0.2)
    if probe is not None:
        probe.close()
        raise RuntimeError("127.0.0.1:%d already accepts before the start" % port)

    pass_fds = ()
    listener = dup = None
    if listen_fd is not None:
        listener, dup = bound_listener(port, listen_fd)
        pass_fds = (listen_fd,)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            pass_fds=pass_fds,
        )
    finally:
        # The started proxy has its own copy now.
        if dup is not None:
            os.close(dup)
        if listener is not None:
            listener.close()
    try:
        accepted = None
        served = None
        end = start + deadline
        while time.monotonic() < end:
            s = connect(port, 0.5)
            if s is not None:
                now = time.monotonic()
                if accepted is None:
                    accepted = now
                if answers(s, 1.0):
                    served = time.monotonic()
                    break
            elif proc.poll() is not None:
                raise NotAProxy(
                    "exited with status %d before accepting" % proc.returncode
                )
            time.sleep(POLL_INTERVAL)
        if served is None:
            raise RuntimeError("no answer on port %d within %gs" % (port, deadline))
        if proc.poll() is not None:
            raise NotAProxy("the started process is gone: it did not exec in place")
        rss, pss = memory_kb(proc.pid)
        return (accepted - start) * 1000.0, (served - start) * 1000.0, rss, pss
    finally:
        stop(proc)


def main(argv):
    runs, port, deadline, listen_fd = None, None, 10.0, None
    i = 1
    while i < len(argv) and argv[i] != "--":
        if argv[i] == "--runs":
            runs = int(argv[i + 1])
        elif argv[i] == "--port":
            port = int(argv[i + 1])
        elif argv[i] == "--deadline":
            deadline = float(argv[i + 1])
        elif argv[i] == "--listen-fd":
            listen_fd = int(argv[i + 1])
        else:
            sys.stderr.write(__doc__)
            return 64
        i += 2
    cmd = argv[i + 1 :]
    if not cmd or runs is None or port is None or not 0 < runs <= 1000:
        sys.stderr.write(__doc__)
        return 64

    results = {"accept_ms": [], "serve_ms": [], "rss_kb": [], "pss_kb": []}
    for n in range(runs):
        try:
            row = one_run(cmd, port, deadline, listen_fd)
        except NotAProxy as e:
            sys.stderr.write("startup: run %d: %s\n" % (n + 1, e))
            return 3 if n == 0 else 1
        except (RuntimeError, OSError) as e:
            sys.stderr.write("startup: run %d: %s\n" % (n + 1, e))
            return 1
        for key, value in zip(("accept_ms", "serve_ms", "rss_kb", "pss_kb"), row):
            results[key].append(value)
    results["median"] = {k: statistics.median(v) for k, v in results.items()}
    results["command"] = cmd
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
