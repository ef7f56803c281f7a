#!/usr/bin/env python3
"""What the agent recorded behind the fleet, checked request by request.

  fleet_check.py identity RECORD EXPECTED
      EXPECTED: one line per network, "PATH HEADER ID XFF": the request for
      PATH must have reached the agent exactly once, with HEADER: ID and
      X-Forwarded-For: XFF, each once, and no other identity header (the
      spoofed ones the clients sent removed). Prints one line per problem
      and "checked N" at the end; exit 1 on any problem.
  fleet_check.py control SOCKET
      Bad messages on the control socket: each gets one error reply (ok
      false, an error line) and the connection or the daemon goes on.
      Prints one JSON object: the replies by case.
"""
import array
import json
import os
import socket
import sys

IDENTITY = ("x-forwarded-for", "x-neutron-network-id", "x-neutron-router-id",
            "x-ovn-network-id")


def identity(record, expected):
    want = {}
    with open(expected) as f:
        for line in f:
            path, header, ident, xff = line.split()
            want[path] = (header.lower(), ident, xff)
    seen = {}
    problems = []
    with open(record) as f:
        for line in f:
            r = json.loads(line)
            path = r.get("path")
            if path not in want:
                continue
            seen[path] = seen.get(path, 0) + 1
            header, ident, xff = want[path]
            got = [(k.lower(), v) for k, v in r["headers"]
                   if k.lower() in IDENTITY]
            expect = sorted([("x-forwarded-for", xff), (header, ident)])
            if sorted(got) != expect:
                problems.append("%s: identity headers %r, expected %r" %
                                (path, got, expect))
    for path in want:
        if seen.get(path, 0) != 1:
            problems.append("%s: reached the agent %d times" %
                            (path, seen.get(path, 0)))
    for p in problems[:20]:
        print(p)
    print("checked %d" % len(want))
    return 1 if problems else 0


def ask(path, data, fds=()):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.connect(path)
    try:
        if fds:
            s.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                array.array("i", fds))])
        else:
            s.send(data)
        reply = s.recv(65536)
        # The connection goes on after an error: a good request still works.
        s.send(b'{"v":1,"op":"list"}')
        after = s.recv(65536)
    finally:
        s.close()
    r = json.loads(reply)
    return {"ok": r.get("ok"), "error": r.get("error", ""),
            "then": json.loads(after).get("ok")}


def control(path):
    out = {}
    out["garbage"] = ask(path, b"\x00\xffnot json")
    out["trailing"] = ask(path, b'{"v":1,"op":"list"} {}')
    out["version"] = ask(path, b'{"v":2,"op":"list"}')
    out["unknown"] = ask(path, b'{"v":1,"op":"list","x":1}')
    out["deep"] = ask(path, b'{"v":1,"op":"add","network":' +
                      b'{"a":' * 50 + b'1' + b'}' * 51)
    out["big"] = ask(path, b" " * 70000)
    r, w = os.pipe()
    try:
        out["fds_with_list"] = ask(path, b'{"v":1,"op":"list"}', [r])
        out["three_fds"] = ask(path, b'{"v":1,"op":"list"}', [r, w, r])
        out["pipe_as_listener"] = ask(
            path, b'{"v":1,"op":"add","network":{"id":'
            b'"99999999-9999-4999-8999-999999999999","kind":"network",'
            b'"flavor":"neutron","socket":"/x","bind":"127.0.0.1",'
            b'"port":80}}', [r])
    finally:
        os.close(r)
        os.close(w)
    print(json.dumps(out, sort_keys=True))
    return 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "identity":
        return identity(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 3 and sys.argv[1] == "control":
        return control(sys.argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
