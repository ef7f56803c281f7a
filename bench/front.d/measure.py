#!/usr/bin/python3
"""Measure the processes and the kernel memory of one bench/front run, and
turn the measurements into Markdown tables.

usage:
  measure.py procs OUT.json --pids FILE [--fleet PID] [--smaps FILE.json]
  measure.py run OUT.jsonl --n N --round R --variant V [--procs FILE.json]
             [--times FILE] [--before SNAP --after SNAP [--stopped SNAP]]
             [--answered K --checked C] [--listed L] [--failed F]
  measure.py report DIR

procs, while the processes run: from /proc, each one's Rss, Pss, Pss_Anon,
  Pss_File, Private_Dirty and Private_Clean (smaps_rollup, kB), its threads,
  its page tables (VmPTE), its program (/proc/PID/exe), its mount
  namespace against PID 1's, and the size of each mount table held (lines
  of /proc/PID/mountinfo). --pids: the pids, one a line (each read from the
  pidfile the proxy wrote); --fleet: the fleet daemon, whose memory counts
  too; --smaps: where to write the first process's /proc/PID/smaps summed
  by mapping (JSON).
run: one line of JSON appended to OUT.jsonl for one variant at N networks:
  what procs wrote; --times: the wall time of each spawn, in microseconds,
  one a line; --before/--after/--stopped: `cat /proc/meminfo
  /proc/slabinfo` before the first spawn, after the last one and after the
  proxies stopped: the rise and the fall of Slab, SReclaimable, SUnreclaim,
  KernelStack, PageTables and Percpu (/proc/meminfo, kB), and of each slab
  cache (active objects times object size, /proc/slabinfo, bytes).

report: the tables of docs/benchmarks.md from DIR/runs.jsonl (medians over
the rounds) and DIR/alone.jsonl (the stub and a pause() program alone),
DIR/smaps-*.json (by mapping).
"""

import json
import os
import statistics
import sys

MEMINFO = ("Slab", "SReclaimable", "SUnreclaim", "KernelStack", "PageTables",
           "Percpu", "MemAvailable")
# Kernel memory a process holds that Pss does not show and nobody may
# reclaim: the unreclaimable slab (mount copies, task, mm, VMAs, files,
# sockets), kernel stacks, page tables, per-CPU counters (each mount's).
KERNEL = ("SUnreclaim", "KernelStack", "PageTables", "Percpu")
ROLLUP = ("Rss", "Pss", "Pss_Anon", "Pss_File", "Private_Dirty",
          "Private_Clean")
VARIANTS = (
    ("fleet", "(a) stubs + one fleet daemon"),
    ("haproxy", "(b) haproxy"),
    ("builtin", "(c) built-in engine, a process each"),
)


def read_snapshot(path):
    mem, slab = {}, {}
    with open(path) as f:
        for line in f:
            cols = line.split()
            if not cols:
                continue
            if cols[0].endswith(":") and len(cols) >= 2:
                mem[cols[0][:-1]] = int(cols[1])
            elif len(cols) > 4 and cols[0] not in ("slabinfo", "#"):
                try:
                    slab[cols[0]] = int(cols[1]) * int(cols[3])
                except ValueError:
                    pass
    return mem, slab


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def rollup(pid):
    text = read_text("/proc/%d/smaps_rollup" % pid)
    if text is None:
        return None
    r = {}
    for line in text.splitlines():
        cols = line.split()
        if len(cols) >= 2 and cols[0].endswith(":") and cols[0][:-1] in ROLLUP:
            r[cols[0][:-1]] = int(cols[1])
    return r


def threads(pid):
    text = read_text("/proc/%d/status" % pid) or ""
    for line in text.splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def by_mapping(pid):
    """/proc/PID/smaps summed by what is mapped: a file's basename, [heap],
    [stack]...; an anonymous mapping right after a file's writable one is
    that file's zero-filled data (its .bss), "[anon]" else."""
    out = {}
    name = None
    prev_end, prev_file = None, None
    text = read_text("/proc/%d/smaps" % pid) or ""
    for line in text.splitlines():
        cols = line.split()
        if not cols:
            continue
        if "-" in cols[0] and not cols[0].endswith(":"):
            start, end = (int(x, 16) for x in cols[0].split("-"))
            path = cols[5] if len(cols) > 5 else ""
            if path.startswith("/"):
                name = os.path.basename(path)
                # Only a writable data segment is followed by its .bss.
                prev_file = name if "w" in cols[1] else None
            elif path:
                name, prev_file = path, None
            elif prev_file is not None and start == prev_end:
                name = prev_file + " .bss"
            else:
                name, prev_file = "[anon]", None
            prev_end = end
            out.setdefault(name, {k: 0 for k in ("Rss", "Pss", "Private_Dirty",
                                                 "Private_Clean")})
        elif name is not None and cols[0][:-1] in out[name]:
            out[name][cols[0][:-1]] += int(cols[1])
    return out


def stat(path):
    try:
        st = os.stat(path)
        return (st.st_dev, st.st_ino)
    except OSError:
        return None


def pct(values, p):
    v = sorted(values)
    if not v:
        return None
    i = max(1, -(-len(v) * p // 100))  # nearest rank
    return v[int(i) - 1]


def parse_opts(argv):
    opts = {}
    for i in range(0, len(argv) - 1, 2):
        if not argv[i].startswith("--"):
            raise SystemExit("measure.py: %s: not an option" % argv[i])
        opts[argv[i][2:]] = argv[i + 1]
    return opts


def vm_pte(pid):
    text = read_text("/proc/%d/status" % pid) or ""
    for line in text.splitlines():
        if line.startswith("VmPTE:"):
            return int(line.split()[1])
    return 0


def cmd_procs(argv):
    """What /proc tells of the processes, while they run."""
    out, opts = argv[0], parse_opts(argv[1:])
    with open(opts["pids"]) as f:
        pids = [int(x) for x in f.read().split()]
    init_ns = stat("/proc/1/ns/mnt")
    tot = {k: 0 for k in ROLLUP}
    alive = nthreads = in_init = pte = 0
    exes, own_ns, tables = {}, set(), {}
    for pid in pids:
        r = rollup(pid)
        if r is None:
            continue
        alive += 1
        for k in ROLLUP:
            tot[k] += r.get(k, 0)
        nthreads += threads(pid)
        pte += vm_pte(pid)
        try:
            exe = os.path.basename(os.readlink("/proc/%d/exe" % pid))
        except OSError:
            exe = "?"
        exes[exe] = exes.get(exe, 0) + 1
        ns = stat("/proc/%d/ns/mnt" % pid)
        if ns == init_ns:
            in_init += 1
        elif ns is not None and ns not in own_ns:
            own_ns.add(ns)
            text = read_text("/proc/%d/mountinfo" % pid) or ""
            tables[ns] = text.count("\n")
    rec = {
        "processes": len(pids),
        "alive": alive,
        "threads": nthreads,
        "vmpte_kb": pte,
        "rollup_kb": tot,
        "exes": exes,
        "in_pid1_mntns": in_init,
        "own_mntns": len(own_ns),
        "mounts_per_own_table": (statistics.median(tables.values())
                                 if tables else 0),
        "pid1_mounts": (read_text("/proc/1/mountinfo") or "").count("\n"),
    }
    if "smaps" in opts and pids:
        with open(opts["smaps"], "w") as f:
            json.dump(by_mapping(pids[0]), f, indent=1, sort_keys=True)
    if "fleet" in opts:
        rec["fleet_rollup_kb"] = rollup(int(opts["fleet"]))
        rec["fleet_threads"] = threads(int(opts["fleet"]))
    with open(out, "w") as f:
        json.dump(rec, f, sort_keys=True)
    return 0


def kernel_delta(a, b):
    m0, s0 = read_snapshot(a)
    m1, s1 = read_snapshot(b)
    mem = {k: m1.get(k, 0) - m0.get(k, 0) for k in MEMINFO}
    slab = {k: s1.get(k, 0) - s0.get(k, 0) for k in set(s0) | set(s1)
            if s1.get(k, 0) != s0.get(k, 0)}
    return mem, sum(mem[k] for k in KERNEL), slab


def cmd_run(argv):
    out, opts = argv[0], parse_opts(argv[1:])
    rec = {"n": int(opts["n"]), "round": int(opts["round"]),
           "variant": opts["variant"]}
    for k in ("answered", "checked", "listed", "failed"):
        if k in opts:
            rec[k] = int(opts[k])
    if "times" in opts:
        with open(opts["times"]) as f:
            t = [int(x) / 1000.0 for x in f.read().split()]
        rec["spawns"] = len(t)
        rec["spawn_median_ms"] = statistics.median(t) if t else None
        rec["spawn_p99_ms"] = pct(t, 99)
        rec["spawn_max_ms"] = max(t) if t else None
        rec["spawn_all_s"] = sum(t) / 1000.0
    if "before" in opts:
        # The rise, from before the first spawn to after the last.
        (rec["meminfo_delta_kb"], rec["kernel_kb"],
         rec["slab_delta_b"]) = kernel_delta(opts["before"], opts["after"])
    if "stopped" in opts:
        # The fall, from there to after the proxies are stopped (a shorter
        # window: less of the rest of the machine in it).
        mem, k, slab = kernel_delta(opts["stopped"], opts["after"])
        rec["meminfo_fall_kb"], rec["kernel_fall_kb"] = mem, k
        rec["slab_fall_b"] = slab
    if "procs" in opts:
        with open(opts["procs"]) as f:
            rec.update(json.load(f))
    with open(out, "a") as f:
        f.write(json.dumps(rec, sort_keys=True) + "\n")
    return 0


# --- report -----------------------------------------------------------------

def load(path):
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
    return rows


def med(values):
    v = [x for x in values if x is not None]
    return statistics.median(v) if v else None


def fmt(v, spec="%.0f"):
    return "n/a" if v is None else spec % v


def per_network(r):
    """Pss, kernel and all included per network, kB."""
    n = r["n"]
    pss = r["rollup_kb"]["Pss"]
    if r.get("fleet_rollup_kb"):
        pss += r["fleet_rollup_kb"]["Pss"]
    kernel = r["kernel_kb"]
    return pss / n, kernel / n, (pss + kernel) / n


def cmd_report(argv):
    d = argv[0]
    runs = load(os.path.join(d, "runs.jsonl"))
    alone = load(os.path.join(d, "alone.jsonl"))
    counts = sorted({r["n"] for r in runs})
    by = {}
    for r in runs:
        by.setdefault((r["n"], r["variant"]), []).append(r)
    rounds = max((r["round"] for r in runs), default=0)

    print("| networks | variant | spawn, `ip netns exec NS ... -f CONF` to "
          "its return: median / p99 (ms) | processes (threads) | Pss of all "
          "(MB) | Pss per network (kB) | kernel per network (kB): at the "
          "start / at the stop | all included per network (MB) | mount "
          "tables held (mounts each) | answered |")
    print("|---:|---|---:|---:|---:|---:|---|---:|---|---|")
    summary = {}
    for n in counts:
        base = by.get((n, "true"), [])
        if base:
            print("| %d | `ip netns exec NS true` (the spawn alone) | %s / %s "
                  "| | | | | | | |" % (
                      n, fmt(med(x["spawn_median_ms"] for x in base), "%.1f"),
                      fmt(med(x["spawn_p99_ms"] for x in base), "%.1f")))
        for v, label in VARIANTS:
            rs = by.get((n, v), [])
            if not rs:
                continue
            pn = [per_network(x) for x in rs]
            s = {
                "pss": med(p[0] for p in pn),
                "kernel": med(p[1] for p in pn),
                "all": med(p[2] for p in pn),
                "pss_all": med(x["rollup_kb"]["Pss"] + (
                    x["fleet_rollup_kb"]["Pss"] if x.get("fleet_rollup_kb")
                    else 0) for x in rs),
                "each_round": [p[2] for p in pn],
                "fall": med(x["kernel_fall_kb"] / n for x in rs
                            if "kernel_fall_kb" in x),
            }
            summary[(n, v)] = s
            fleet = ""
            if rs[0].get("fleet_rollup_kb"):
                fleet = ", fleet %s MB" % fmt(med(
                    x["fleet_rollup_kb"]["Pss"] / 1024.0 for x in rs), "%.1f")
            ans = "%d of %d" % (sum(x["answered"] for x in rs),
                                sum(x["checked"] for x in rs))
            if v == "fleet":
                ans += "; listed by the fleet: %s" % ", ".join(
                    str(x.get("listed", "?")) for x in rs)
            own = med(x["own_mntns"] for x in rs)
            print("| %d | %s | %s / %s | %s (%s) | %s%s | %s | %s | %s | %s "
                  "own, %s in PID 1's (%s) | %s |" % (
                      n, label,
                      fmt(med(x["spawn_median_ms"] for x in rs), "%.1f"),
                      fmt(med(x["spawn_p99_ms"] for x in rs), "%.1f"),
                      fmt(med(x["alive"] for x in rs)),
                      fmt(med(x["threads"] for x in rs)),
                      fmt(s["pss_all"] / 1024.0, "%.1f"), fleet,
                      fmt(s["pss"]), "%s / %s" % (fmt(s["kernel"]),
                                                  fmt(s["fall"])),
                      fmt(s["all"] / 1024.0, "%.3f"),
                      fmt(own), fmt(med(x["in_pid1_mntns"] for x in rs)),
                      fmt(med(x["mounts_per_own_table"] for x in rs))
                      if own else "-", ans))
    print()

    # The kernel's part, broken down.
    caches = {}
    top = counts[-1] if counts else 0
    for r in runs:
        if r["n"] == top and "slab_delta_b" in r:
            for k, b in r["slab_delta_b"].items():
                caches[k] = max(caches.get(k, 0), abs(b))
    shown = sorted(caches, key=lambda k: -caches[k])[:6]
    for k in ("mnt_cache", "dentry"):
        if k not in shown:
            shown.append(k)
    print("| networks | variant | SUnreclaim | KernelStack | PageTables | "
          "Percpu | kernel (their sum) | at the stop | SReclaimable | Slab | " +
          " | ".join("`%s`" % k for k in shown) + " | `mnt_cache` at the "
          "stop | page tables of the processes (VmPTE) | their kernel "
          "stacks (16 kB a thread) |")
    print("|---:|---|" + "---:|" * (11 + len(shown)))
    for n in counts:
        for v, label in VARIANTS:
            rs = by.get((n, v), [])
            if not rs:
                continue

            def mi(k):
                return fmt(med(x["meminfo_delta_kb"][k] / n for x in rs), "%.1f")

            print("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | "
                  "%s | %s | %s |" % (
                      n, label, mi("SUnreclaim"), mi("KernelStack"),
                      mi("PageTables"), mi("Percpu"),
                      fmt(med(x["kernel_kb"] / n for x in rs), "%.1f"),
                      fmt(med(x["kernel_fall_kb"] / n for x in rs
                              if "kernel_fall_kb" in x), "%.1f"),
                      mi("SReclaimable"), mi("Slab"),
                      " | ".join(fmt(med(x["slab_delta_b"].get(k, 0) / 1024.0
                                         / n for x in rs), "%.1f")
                                 for k in shown),
                      fmt(med(x.get("slab_fall_b", {}).get("mnt_cache", 0)
                              / 1024.0 / n for x in rs), "%.1f"),
                      fmt(med(x["vmpte_kb"] / n for x in rs), "%.1f"),
                      fmt(med(x["threads"] * 16.0 / n for x in rs), "%.1f")))
    print()

    # The stub alone, against a pause() program.
    at = {}
    for a in alone:
        at.setdefault((a["variant"], a["n"]), []).append(a)
    for n in counts:
        for x in by.get((n, "fleet"), []):
            at.setdefault(("stub", n), []).append(x)
    ns = sorted({k[1] for k in at})
    print("| processes at once | stub Pss (kB each) | stub Rss | stub "
          "Private_Dirty | pause() Pss (kB each) | pause() Rss | pause() "
          "Private_Dirty | stub - pause(), Pss |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in ns:
        def each(tag, k):
            rs = at.get((tag, n), [])
            return med(x["rollup_kb"][k] / x["alive"] for x in rs
                       if x["alive"])
        sp, pp = each("stub", "Pss"), each("pause", "Pss")
        print("| %d | %s | %s | %s | %s | %s | %s | %s |" % (
            n, fmt(sp), fmt(each("stub", "Rss")),
            fmt(each("stub", "Private_Dirty")), fmt(pp),
            fmt(each("pause", "Rss")), fmt(each("pause", "Private_Dirty")),
            fmt(None if sp is None or pp is None else sp - pp)))
    print()

    # By mapping: one stub and one pause() among the most of each.
    maps = {}
    for tag in ("stub", "pause"):
        cands = sorted(f for f in os.listdir(d)
                       if f.startswith("smaps-%s-" % tag) and f.endswith(".json"))
        cands.sort(key=lambda f: int(f[len("smaps-%s-" % tag):-5]))
        if cands:
            with open(os.path.join(d, cands[-1])) as f:
                maps[tag] = (cands[-1][len("smaps-%s-" % tag):-5], json.load(f))
    if maps:
        names = sorted(set().union(*(m[1].keys() for m in maps.values())),
                       key=lambda k: -max(m[1].get(k, {}).get("Pss", 0)
                                          for m in maps.values()))
        hdr = []
        for tag in ("stub", "pause"):
            if tag in maps:
                hdr.append("%s (of %s) Rss / Pss / Private_Dirty (kB)" % (
                    "stub" if tag == "stub" else "pause()", maps[tag][0]))
        print("| mapping | " + " | ".join(hdr) + " |")
        print("|---|" + "---:|" * len(hdr))
        tot = {tag: [0, 0, 0] for tag in maps}
        for k in names:
            cells = []
            for tag in ("stub", "pause"):
                if tag not in maps:
                    continue
                m = maps[tag][1].get(k)
                if m is None:
                    cells.append("")
                    continue
                tot[tag][0] += m["Rss"]
                tot[tag][1] += m["Pss"]
                tot[tag][2] += m["Private_Dirty"]
                cells.append("%d / %d / %d" % (m["Rss"], m["Pss"],
                                               m["Private_Dirty"]))
            print("| `%s` | %s |" % (k, " | ".join(cells)))
        print("| total | " + " | ".join("%d / %d / %d" % tuple(tot[t])
                                        for t in ("stub", "pause")
                                        if t in maps) + " |")
        print()

    # Per network, against the targets, and 10,000 networks extrapolated:
    # Pss per network as at the largest N; the kernel's part per network
    # of a variant whose processes keep their own mount table (a copy that
    # grows with the number of namespaces) on the line through the two
    # largest N, of the stubs (no table: nothing grows) as at the largest N.
    if len(counts) >= 2:
        n0, n1 = counts[-2], counts[-1]
        far = 10000
        print("| variant | all included per network: %s | each round at "
              "%d | kernel per network at %d, extrapolated (kB) | all "
              "included per network at %d, extrapolated (MB) | at %d "
              "networks, extrapolated (GB) |" % (
                  ", ".join("%d" % n for n in counts), n1, far, far, far))
        print("|---|---|---|---:|---:|---:|")
        for v, label in VARIANTS:
            if (n0, v) not in summary or (n1, v) not in summary:
                continue
            k0, k1 = summary[(n0, v)]["kernel"], summary[(n1, v)]["kernel"]
            own = med(x["own_mntns"] for x in by[(n1, v)])
            if own:
                kfar = k1 + (k1 - k0) / (n1 - n0) * (far - n1)
                how = "line through %d and %d" % (n0, n1)
            else:
                kfar = k1
                how = "as at %d: no mount table" % n1
            allfar = summary[(n1, v)]["pss"] + kfar
            print("| %s | %s | %s | %.0f (%s) | %.2f | %.1f |" % (
                label,
                "; ".join("%s MB" % fmt(summary[(n, v)]["all"] / 1024.0,
                                       "%.3f")
                          for n in counts if (n, v) in summary),
                ", ".join("%.3f" % (x / 1024.0)
                          for x in summary[(n1, v)]["each_round"]),
                kfar, how, allfar / 1024.0, allfar * far / 1024.0 / 1024.0))
        print()
    print("Mount tables: PID 1's (this run's private mount namespace) "
          "held %s; each `ip netns exec` copies it, less `/sys` "
          "and its submounts, plus a fresh sysfs." % ", ".join(
              "%s mounts at %d networks" % (fmt(med(x.get("pid1_mounts") for x in runs
                                             if x["n"] == n and
                                             "pid1_mounts" in x)), n)
              for n in counts))
    print()
    print("Medians of %d rounds (the variants' order rotating); kernel = the "
          "deltas of SUnreclaim + KernelStack + PageTables + Percpu "
          "(/proc/meminfo) from 2 s before the first spawn to 2 s after the "
          "last (at the stop: their fall from there to 2 s after the "
          "proxies were stopped); all included = (Pss + kernel at the "
          "start) / N; (a) counts the fleet daemon's Pss." % rounds)
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "run":
        return cmd_run(argv[2:])
    if len(argv) >= 3 and argv[1] == "procs":
        return cmd_procs(argv[2:])
    if len(argv) == 3 and argv[1] == "report":
        return cmd_report(argv[2:])
    sys.stderr.write(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
