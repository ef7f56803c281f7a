#!/usr/bin/python3
"""Turn the measurements of bench/engine into Markdown tables.

usage: table.py RESULTS.tsv MEMORY.tsv [SYSCALLS.tsv]

RESULTS.tsv: round, target (direct, haproxy, haproxy-reuse, builtin),
connections, mode (keep-alive, close), then key=value fields: those of
report.lua's line, and bench/engine's proxy_cpu_us and agent_cpu_us (CPU
time over the run), agent_requests and agent_conns (what the agent saw).
MEMORY.tsv: target, phase (idle, load), Rss, Pss, Private_Dirty (kB),
threads.
SYSCALLS.tsv: target, connections, who (proxy, agent), wrk's requests,
system call (total: all of them), calls, calls per request.
A target with no rows is shown as n/a. Requests per second, p99 and the
per-request figures are medians over the rounds; the ratios are ratios of
those medians.
"""

import statistics
import sys

TARGETS = ("direct", "haproxy", "haproxy-reuse", "builtin")
PROXIES = TARGETS[1:]
ERRORS = ("connect", "read", "write", "status", "timeout")
TOP = 8  # system calls shown per proxy and point


def load_results(path):
    runs = {}
    with open(path) as f:
        for line in f:
            cols = line.split()
            if not cols:
                continue
            _round, target, conns, mode = cols[:4]
            fields = dict(kv.split("=", 1) for kv in cols[4:])
            runs.setdefault((int(conns), mode, target), []).append(fields)
    return runs


def median(runs, key):
    vals = [float(r[key]) for r in runs if key in r]
    return statistics.median(vals) if vals else None


def per_request(runs, key, denom="requests"):
    """Median over the runs of key / denom (runs lacking either skipped)."""
    vals = [float(r[key]) / float(r[denom]) for r in runs
            if key in r and float(r.get(denom, 0)) > 0]
    return statistics.median(vals) if vals else None


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def ms(us):
    return None if us is None else us / 1000


def row(cells):
    print("| " + " | ".join(cells) + " |")


def header(names, text=(1,)):
    """A table's head: columns numbered in text left-aligned, others right."""
    row(names)
    print("|" + "|".join("---" if i in text else "---:"
                         for i in range(len(names))) + "|")


def speed(runs, points):
    header(["connections", "mode"]
           + ["%s rps" % t for t in TARGETS]
           + ["haproxy/direct", "builtin/haproxy", "builtin/haproxy-reuse"]
           + ["%s p99 ms" % t for t in TARGETS])
    errors = []
    for conns, mode in points:
        rps = {t: median(runs.get((conns, mode, t), []), "rps") for t in TARGETS}
        p99 = {t: median(runs.get((conns, mode, t), []), "p99_us") for t in TARGETS}
        row([str(conns), mode]
            + [fmt(rps[t], ".0f") for t in TARGETS]
            + [fmt(ratio(rps["haproxy"], rps["direct"]), ".2f"),
               fmt(ratio(rps["builtin"], rps["haproxy"]), ".2f"),
               fmt(ratio(rps["builtin"], rps["haproxy-reuse"]), ".2f")]
            + [fmt(ms(p99[t]), ".2f") for t in TARGETS])
        for t in TARGETS:
            for r in runs.get((conns, mode, t), []):
                bad = {k: int(r[k]) for k in ERRORS if int(r[k]) != 0}
                if bad:
                    errors.append("%s, %d connections, %s: %s of %s requests" % (
                        t, conns, mode,
                        ", ".join("%s %d" % kv for kv in bad.items()),
                        r["requests"]))
    print()
    if errors:
        print("wrk errors (per round; status = answers other than 2xx/3xx):")
        for e in errors:
            print("- " + e)
    else:
        print("wrk reported no errors and no answers other than 2xx/3xx.")


def cpu(runs, points):
    """CPU time per request of each proxy and of the agent, and the agent's
    new connections per request it answered."""
    print()
    header(["connections", "mode"]
           + ["%s µs/req" % t for t in PROXIES]
           + ["agent µs/req, %s" % t for t in TARGETS])
    for conns, mode in points:
        r = {t: runs.get((conns, mode, t), []) for t in TARGETS}
        row([str(conns), mode]
            + [fmt(per_request(r[t], "proxy_cpu_us"), ".1f") for t in PROXIES]
            + [fmt(per_request(r[t], "agent_cpu_us"), ".1f") for t in TARGETS])
    print()
    header(["connections", "mode"]
           + ["agent connections/req, %s" % t for t in TARGETS])
    reuse = []
    for conns, mode in points:
        r = {t: runs.get((conns, mode, t), []) for t in TARGETS}
        per = {t: per_request(r[t], "agent_conns", "agent_requests")
               for t in TARGETS}
        row([str(conns), mode] + [fmt(per[t], ".3f") for t in TARGETS])
        if per["haproxy-reuse"] is not None and per["haproxy-reuse"] > 0.1:
            reuse.append("%d %s: %.3f" % (conns, mode, per["haproxy-reuse"]))
    if reuse:
        print()
        print("haproxy-reuse does not reuse its agent connections "
              "(connections per request at " + "; ".join(reuse) + ").")


def load_syscalls(path):
    calls = {}  # (target, conns, who) -> {syscall: calls per request}
    requests = {}
    with open(path) as f:
        for line in f:
            cols = line.split()
            if not cols:
                continue
            t, conns, who, n, name, count, _per = cols
            calls.setdefault((t, int(conns), who), {})[name] = (
                int(count) / int(n))
            requests[(t, int(conns))] = int(n)
    return calls, requests


def syscalls(path):
    calls, requests = load_syscalls(path)
    if not calls:
        return
    conns_points = sorted({c for _t, c, _w in calls})
    print()
    header(["connections, keep-alive", "target", "requests under strace",
            "proxy calls/req", "agent calls/req"])
    for c in conns_points:
        for t in TARGETS:
            if (t, c) not in requests:
                continue
            row([str(c), t, str(requests[(t, c)]),
                 fmt(calls.get((t, c, "proxy"), {}).get("total"), ".2f"),
                 fmt(calls.get((t, c, "agent"), {}).get("total"), ".2f")])
    # The proxies' own calls: each one's TOP largest at each point, as rows.
    cols = [(t, c) for c in conns_points for t in PROXIES
            if (t, c, "proxy") in calls]
    if not cols:
        return
    names = set()
    for t, c in cols:
        per = {k: v for k, v in calls[(t, c, "proxy")].items() if k != "total"}
        names.update(sorted(per, key=per.get, reverse=True)[:TOP])
    names = sorted(names, key=lambda k: -max(
        calls[(t, c, "proxy")].get(k, 0) for t, c in cols))
    print()
    header(["proxy calls/req"] + ["%s, %d" % tc for tc in cols], text=(0,))
    for name in names:
        row([name] + [fmt(calls[tc + ("proxy",)].get(name, 0), ".2f")
                      for tc in cols])
    other = []
    for tc in cols:
        per = calls[tc + ("proxy",)]
        other.append(max(0.0, per.get("total", 0)
                         - sum(per.get(k, 0) for k in names)))
    row(["other"] + [fmt(v, ".2f") for v in other])
    row(["total"] + [fmt(calls[tc + ("proxy",)].get("total"), ".2f")
                     for tc in cols])


def memory(path):
    mem = {}
    with open(path) as f:
        for line in f:
            cols = line.split()
            if cols:
                mem.setdefault((cols[0], cols[1]), []).append(
                    tuple(int(c) for c in cols[2:6]))
    print()
    print("| per instance | Rss MB | Pss MB | Private_Dirty MB | threads |")
    print("|---|---:|---:|---:|---:|")
    for t in PROXIES:
        for phase, label in (("idle", "idle, once serving"),
                             ("load", "after the 256-connection runs")):
            vals = mem.get((t, phase), [])
            if vals:
                print("| %s, %s | %.1f | %.1f | %.1f | %d |" % (
                    t, label, mem_median(vals, 0), mem_median(vals, 1),
                    mem_median(vals, 2), max(v[3] for v in vals)))
            else:
                print("| %s, %s | n/a | n/a | n/a | n/a |" % (t, label))
    notes = []
    bi = mem.get(("builtin", "idle"))
    for t in ("haproxy", "haproxy-reuse"):
        hi = mem.get((t, "idle"))
        if hi and bi:
            notes.append("builtin/%s idle Pss: %.2f" % (
                t, mem_median(bi, 1) / mem_median(hi, 1)))
    for t in PROXIES:
        idle, load = mem.get((t, "idle")), mem.get((t, "load"))
        if idle and load:
            notes.append("%s Pss after load / idle: %.2f" % (
                t, mem_median(load, 1) / mem_median(idle, 1)))
    if notes:
        print()
        print("; ".join(notes) + ".")


def mem_median(vals, i):
    """Median of column i of the memory rows, in MB."""
    return statistics.median(v[i] for v in vals) / 1024


def main():
    sys.stdout.reconfigure(encoding="utf-8")
    runs = load_results(sys.argv[1])
    points = sorted({(c, m) for c, m, _t in runs},
                    key=lambda p: (p[0], p[1] != "keep-alive"))
    speed(runs, points)
    cpu(runs, points)
    if len(sys.argv) > 3:
        syscalls(sys.argv[3])
    memory(sys.argv[2])


if __name__ == "__main__":
    main()
