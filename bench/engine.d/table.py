#!/usr/bin/python3
"""Turn the measurements of bench/engine into Markdown tables.

usage: table.py RESULTS.tsv MEMORY.tsv

RESULTS.tsv: round, target (direct, haproxy, builtin), connections, mode
(keep-alive, close), then the key=value fields of report.lua's line.
MEMORY.tsv: target, phase (idle, load), Rss, Pss, Private_Dirty (kB),
threads.
A target with no rows is shown as n/a. Requests per second and p99 are
medians over the rounds; the ratios are ratios of those medians.
"""

import statistics
import sys

TARGETS = ("direct", "haproxy", "builtin")
ERRORS = ("connect", "read", "write", "status", "timeout")


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
    if not runs:
        return None
    return statistics.median(float(r[key]) for r in runs)


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def main():
    runs = load_results(sys.argv[1])
    points = sorted({(c, m) for c, m, _t in runs}, key=lambda p: (p[0], p[1] != "keep-alive"))
    print("| connections | mode | direct rps | haproxy rps | builtin rps "
          "| haproxy/direct | builtin/haproxy | direct p99 ms | haproxy p99 ms "
          "| builtin p99 ms |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    errors = []
    for conns, mode in points:
        rps = {t: median(runs.get((conns, mode, t), []), "rps") for t in TARGETS}
        p99 = {t: median(runs.get((conns, mode, t), []), "p99_us") for t in TARGETS}
        print("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            conns, mode,
            fmt(rps["direct"], ".0f"), fmt(rps["haproxy"], ".0f"),
            fmt(rps["builtin"], ".0f"),
            fmt(ratio(rps["haproxy"], rps["direct"]), ".2f"),
            fmt(ratio(rps["builtin"], rps["haproxy"]), ".2f"),
            fmt(None if p99["direct"] is None else p99["direct"] / 1000, ".2f"),
            fmt(None if p99["haproxy"] is None else p99["haproxy"] / 1000, ".2f"),
            fmt(None if p99["builtin"] is None else p99["builtin"] / 1000, ".2f")))
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

    mem = {}
    with open(sys.argv[2]) as f:
        for line in f:
            cols = line.split()
            if cols:
                mem.setdefault((cols[0], cols[1]), []).append(
                    tuple(int(c) for c in cols[2:6]))
    print()
    print("| per instance | Rss MB | Pss MB | Private_Dirty MB | threads |")
    print("|---|---:|---:|---:|---:|")
    for t in ("haproxy", "builtin"):
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
    hi, bi = mem.get(("haproxy", "idle")), mem.get(("builtin", "idle"))
    if hi and bi:
        notes.append("builtin/haproxy idle Pss: %.2f" % (
            mem_median(bi, 1) / mem_median(hi, 1)))
    for t in ("haproxy", "builtin"):
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


if __name__ == "__main__":
    main()
