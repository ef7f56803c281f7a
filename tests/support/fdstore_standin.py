#!/usr/bin/env python3
"""A stand-in for systemd's file-descriptor store, for the fleet's restart.

  fdstore_standin.py --dir DIR -- COMMAND...

Runs COMMAND with NOTIFY_SOCKET=DIR/notify (a datagram socket, as systemd
gives a Type=notify service) and keeps what it sends: FDSTORE=1 with
FDNAME=NAME and a descriptor (kept under NAME, replacing one of that
name), FDSTOREREMOVE=1 with FDNAME=NAME (closed). On SIGUSR1 it restarts
COMMAND as systemd restarts a service: SIGTERM, wait for it to end, then
start it again with the kept descriptors at 3, 4, ... and LISTEN_FDS,
LISTEN_FDNAMES and LISTEN_PID set (sd_listen_fds(3)). Writes the current
pid to DIR/pid and a line per event to DIR/events ("ready PID", "stored
NAME", "removed NAME", "restart N FDS"). SIGTERM ends COMMAND and us.
Every wait is bounded.
"""
import argparse
import array
import fcntl
import os
import signal
import socket
import sys
import time

FDS_MAX = 64


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    path = os.path.join(a.dir, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o666)  # the service drops to its user
    sock.settimeout(0.2)
    events = open(os.path.join(a.dir, "events"), "a", buffering=1)
    store = {}
    want = {"restart": False, "stop": False}
    signal.signal(signal.SIGUSR1, lambda s, f: want.update(restart=True))
    signal.signal(signal.SIGTERM, lambda s, f: want.update(stop=True))

    def start():
        names = list(store)
        fds = [store[n] for n in names]
        pid = os.fork()
        if pid == 0:
            try:
                high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 1000) for fd in fds]
                for i, fd in enumerate(high):
                    os.dup2(fd, 3 + i, inheritable=True)
                env = dict(os.environ)
                env["NOTIFY_SOCKET"] = path
                if fds:
                    env["LISTEN_FDS"] = str(len(fds))
                    env["LISTEN_FDNAMES"] = ":".join(names)
                    env["LISTEN_PID"] = str(os.getpid())
                os.closerange(3 + len(fds), 65536)
                os.execve(cmd[0], cmd, env)
            finally:
                os._exit(127)
        with open(os.path.join(a.dir, "pid"), "w") as f:
            f.write("%d\n" % pid)
        return pid

    def stop(pid):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        end = time.time() + 20
        while time.time() < end:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                return
            drain()
            time.sleep(0.02)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)

    def drain():
        while True:
            try:
                msg, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(4 * FDS_MAX))
            except (socket.timeout, BlockingIOError):
                return
            fds = array.array("i")
            for level, typ, data in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                    fds.frombytes(data[:len(data) - len(data) % 4])
            fields = dict(l.split("=", 1) for l in msg.decode().split("\n") if "=" in l)
            name = fields.get("FDNAME", "stored")
            if fields.get("FDSTORE") == "1" and fds:
                if name in store:
                    os.close(store[name])
                store[name] = fds[0]
                for fd in fds[1:]:
                    os.close(fd)
                events.write("stored %s\n" % name)
            else:
                for fd in fds:
                    os.close(fd)
            if fields.get("FDSTOREREMOVE") == "1" and name in store:
                os.close(store.pop(name))
                events.write("removed %s\n" % name)
            if fields.get("READY") == "1":
                events.write("ready %d\n" % pid)
            sock.setblocking(False)

    pid = start()
    while not want["stop"]:
        sock.settimeout(0.2)
        drain()
        sock.settimeout(0.2)
        if want["restart"]:
            want["restart"] = False
            stop(pid)
            drain()
            events.write("restart %d\n" % len(store))
            pid = start()
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            events.write("exited\n")
            break
    if not want["stop"]:
        return 1
    stop(pid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
