#!/usr/bin/env python3
"""Kill `run` at random moments while it rewrites its config (tests/security/fs_kill.sh).

usage: kill_loop.py BINARY CONF_DIR ID ITERATIONS SECONDS RUN_OPTIONS...

Each iteration starts BINARY run with RUN_OPTIONS and SIGKILLs it at a
random point, then checks the config directory: the config is whole (the
old render or the new one, mode 0600), and any temporary left is a 0600
file holding part of a render. Prints one JSON object with the counts and
the problems found.
"""
import json, os, random, signal, stat, subprocess, sys, time

binary, conf_dir, idv, iters, budget = sys.argv[1:6]
iters, budget = int(iters), float(budget)
opts = sys.argv[6:]
name = idv + ".conf"
conf = os.path.join(conf_dir, name)
prefix = "." + name + ".tmp-"
variants = [opts + ["--metadata-port", "9697"], opts + ["--metadata-port", "9699"]]
renders = []
for v in variants:
    r = subprocess.run([binary, "render"] + v, capture_output=True)
    if r.returncode != 0:
        sys.exit("render failed: %r" % r.stderr)
    renders.append(r.stdout)
if renders[0] == renders[1]:
    sys.exit("the two renders are equal")
quiet = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def whole_run(i):
    t = time.perf_counter()
    subprocess.run([binary, "run"] + variants[i % 2], **quiet)
    return time.perf_counter() - t

times = sorted(whole_run(i) for i in range(10))
median = times[len(times) // 2]
seed = int(os.environ.get("NMP_KILL_SEED", random.randrange(1 << 30)))
rng = random.Random(seed)
st = {"seed": seed, "median_run_us": int(median * 1e6), "iterations": 0,
      "killed": 0, "finished": 0, "kept_old": 0, "got_new": 0,
      "iterations_with_temps": 0, "temps_max": 0, "bad": []}
start = time.perf_counter()
for i in range(iters):
    if time.perf_counter() - start > budget:
        break
    want = i % 2
    before = open(conf, "rb").read()
    delay_us = rng.uniform(0, median * 1.2e6)
    p = subprocess.Popen([binary, "run"] + variants[want], **quiet)
    time.sleep(delay_us / 1e6)
    try:
        os.kill(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    rc = p.wait()
    st["iterations"] += 1
    st["killed" if rc == -signal.SIGKILL else "finished"] += 1
    after = open(conf, "rb").read()
    if after == before:
        st["kept_old"] += 1
    elif after == renders[want]:
        st["got_new"] += 1
    else:
        st["bad"].append("iteration %d (delay %d us): config is neither the old "
                         "nor the new render (%d bytes)" % (i, delay_us, len(after)))
    temps = 0
    for n in os.listdir(conf_dir):
        if n == name:
            continue
        path = os.path.join(conf_dir, n)
        s = os.lstat(path)
        if not n.startswith(prefix) or len(n) != len(prefix) + 6:
            st["bad"].append("iteration %d: unexpected entry %r" % (i, n))
            continue
        temps += 1
        data = open(path, "rb").read() if stat.S_ISREG(s.st_mode) else None
        if (not stat.S_ISREG(s.st_mode) or stat.S_IMODE(s.st_mode) != 0o600
                or not any(r.startswith(data) for r in renders)):
            st["bad"].append("iteration %d: temporary %r is not a 0600 file "
                             "holding part of a render" % (i, n))
    if temps:
        st["iterations_with_temps"] += 1
    st["temps_max"] = max(st["temps_max"], temps)
print(json.dumps(st))
