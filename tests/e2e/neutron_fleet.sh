#!/bin/bash
# neutron's own agents start the proxies, one fleet serves them. Debian's
# python3-neutron plays the DHCP, L3 and OVN metadata agents
# (tests/support/neutron_procmgr.py: their drivers' spawn and destroy
# calls, ProcessManager, ProcessMonitor checking every second) with this
# build's compat/haproxy first on PATH, so `ip netns exec NS haproxy -f
# CONF` runs our front; neutron's own metadata agents
# (tests/support/neutron_agent.py) answer behind it with the identity they
# concluded. The front finds the fleet through
# /etc/ns-metadata-proxy/front.conf, hands it its listeners (held by its
# connection) and becomes ns-metadata-proxy-stub under the same pid and
# command line. Cases:
#   1. NMP_NEUTRON_FLEET_N (100) proxies over the three flavours, spawned by
#      neutron into namespaces made here: each is active for neutron, is
#      the stub (the pid in neutron's pidfile, its /proc/PID/exe, the id in
#      its command line, PID 1's mount namespace), and the fleet lists each
#      network once, held, as neutron configured it;
#   2. a client in each namespace, and for one network of each flavour a
#      VM's namespace across a veth, gets its own identity from neutron's
#      agent: spoofed identity headers in many spellings and heads around
#      the agent's 4 KiB read never make it conclude another;
#   3. kill -9 of one stub: only its network leaves the fleet; neutron's
#      monitor respawns it, and it is listed and answers again;
#   4. neutron destroys one: its network leaves the fleet, neutron removes
#      its config and pidfile, no process is left;
#   5. the fleet restarted (SIGTERM, started again on the same socket)
#      while clients keep asking: no connection fails, the same stubs
#      serve, every network is listed again;
#   6. no fleet: a network spawned then is served by its front itself,
#      which says so, and why, in one log line;
#   7. everything destroyed through neutron: no process of ours is left,
#      no proxy died that we did not kill (a sanitizer's fatal report
#      included), neutron logged no error, no sanitizer report.
# The script runs as PID 1 of a PID namespace of its own, in a mount
# namespace of its own whose /etc is an overlay (its writes on a tmpfs):
# the stub joins PID 1's mount namespace, which must be the test's, never
# the machine's, and the front.conf written here is seen by this test
# only. Every network namespace is made here (nnf<PID>-...) and deleted by
# this script; every process is stopped by pid.
set -u
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
PY=/usr/bin/python3 # Debian's, where python3-neutron is

# --- outside: a PID and mount namespace of our own ------------------------------
if [ -z "${NMP_NF_RUN:-}" ]; then
	. "$(dirname "$SELF")/lib.sh"
	if [ "$IS_ROOT" != 1 ]; then
		skip "neutron fleet" "needs root: network, PID and mount namespaces, an overlay on /etc"
		finish
	fi
	need_commands unshare
	if ! "$PY" -c 'import importlib.util as u, sys
mods = ("eventlet", "oslo_config", "oslo_privsep", "psutil",
        "neutron.agent.linux.external_process", "neutron.agent.metadata.driver",
        "neutron.agent.ovn.metadata.driver", "neutron.agent.metadata.agent",
        "neutron.agent.ovn.metadata.server")
missing = [m for m in mods if u.find_spec(m) is None]
sys.exit("missing: " + " ".join(missing) if missing else 0)' 2>"$T/import.err"; then
		skip "neutron fleet" "python3-neutron is not importable by $PY: $(escape_file "$T/import.err" 200)"
		finish
	fi
	if ! unshare --pid --fork --mount --mount-proc --propagation private true 2>"$T/unshare.err"; then
		skip "neutron fleet" "the kernel refuses a PID and mount namespace: $(escape_file "$T/unshare.err" 200)"
		finish
	fi
	# The run's tag (our pid out here: in there every run is PID 1), for
	# the names of the namespaces and the networks' ids.
	export NMP_NF_RUN=$$
	rm -rf "$T"
	trap - EXIT
	unshare --pid --fork --kill-child=TERM --mount --mount-proc \
		--propagation private -- bash "$SELF" "$BIN" &
	UNSHARE=$!
	# unshare does not pass a signal on: a TERM, INT or HUP to us is a
	# SIGTERM to the script in there (its PID 1, unshare's child), which
	# cleans up and ends; if unshare itself is killed, the script gets
	# SIGTERM from the kernel (--kill-child).
	for sig in TERM INT HUP; do
		# shellcheck disable=SC2064 # the pid is meant to be expanded now
		trap "kill -TERM \$(cat /proc/$UNSHARE/task/$UNSHARE/children 2>/dev/null) 2>/dev/null" "$sig"
	done
	while :; do
		wait "$UNSHARE"
		rc=$?
		kill -0 "$UNSHARE" 2>/dev/null || break
	done
	exit "$rc"
fi

# --- inside: PID 1 --------------------------------------------------------------
. "$(dirname "$SELF")/lib.sh"
RUN=$NMP_NF_RUN
unset NMP_NF_RUN
# Every helper's python3 (lib.sh's too) is Debian's.
PATH=/usr/bin:/bin:/usr/sbin:/sbin:$PATH
PROCMGR=$SRC/tests/support/neutron_procmgr.py
NAGENT=$SRC/tests/support/neutron_agent.py
BUILD=$(cd "$(dirname "$BIN")" && pwd -P) # as /proc/PID/exe shows it
COMPAT=$BUILD/compat
STUB=$BUILD/ns-metadata-proxy-stub
N=${NMP_NEUTRON_FLEET_N:-100}
EVIL=deadbeef-dead-4bad-8bad-deadbeefdead # what a VM claims to be
EVIL2=feedface-dead-4bad-8bad-feedfacedead
EVIL_IP=10.9.8.7
START_WAIT=300 # polls of 0.1 s: importing neutron takes seconds
FREEZE=4       # seconds neutron is held still after the kill -9
T0=$(ms)
# phase NAME: where the time goes, on one line.
phase() {
	echo "# $(($(ms) - T0)) ms: $1"
}

need_commands curl ip mount umount
if ! [[ $N =~ ^[0-9]+$ ]] || [ "$N" -lt 9 ]; then
	fail "prerequisites" "NMP_NEUTRON_FLEET_N=$N: at least 9"
	finish
fi
if [ ! -x "$COMPAT/haproxy" ]; then
	fail "prerequisites" "no $COMPAT/haproxy next to the binary: neutron would run another haproxy"
	finish
fi
if [ "$$" != 1 ]; then
	fail "prerequisites" "not PID 1 of our own PID namespace (pid $$)"
	finish
fi
proxy_account

# A sanitizer's report from a process whose stderr nobody reads (the
# fronts and stubs neutron starts): into $T/san unless the caller
# collects them already.
SAN_DIR=
case ${ASAN_OPTIONS:-} in
*log_path=*) ;;
*)
	SAN_DIR=$T/san
	mkdir -m 1777 "$SAN_DIR"
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$SAN_DIR/nmp
	;;
esac

chmod 0711 "$T"
A=$T/agents   # neutron's metadata agents: sockets (0666) and records
S=$T/state    # neutron's state_path: configs, pidfiles
F=$T/fleet    # the fleet's control socket and log
W=$T/work     # this script's own files
mkdir -m 0755 "$A" "$S" "$F" "$W"
CTL=$F/fleet.sock

MADE_NS=()
FLEET_PID=
DRV_PID=
AGENT_PIDS=()
LOAD_PIDS=()
MOUNTED=()

# Everything this script started, by pid; whatever neutron started (the
# proxies): every process left in this PID namespace but us, which is
# ours by construction. Then the namespaces and the mounts.
nf_cleanup() {
	local p n m
	for p in "${LOAD_PIDS[@]}" "$DRV_PID" "$FLEET_PID" "${AGENT_PIDS[@]}"; do
		[ -n "$p" ] || continue
		alive "$p" && kill -TERM "$p" 2>/dev/null
	done
	for p in "${LOAD_PIDS[@]}" "$DRV_PID" "$FLEET_PID" "${AGENT_PIDS[@]}"; do
		[ -n "$p" ] || continue
		reap "$p"
	done
	for p in $(ours); do
		kill -KILL "$p" 2>/dev/null
	done
	for n in "${MADE_NS[@]}"; do
		ip netns delete "$n" 2>/dev/null
	done
	MADE_NS=()
	for ((m = ${#MOUNTED[@]} - 1; m >= 0; m--)); do
		umount -l "${MOUNTED[m]}" 2>/dev/null
	done
	MOUNTED=()
}
at_exit nf_cleanup

# ours: the pids of every process in this PID namespace but this shell
# and its subshells (which have its command line): all ours, as the
# namespace is.
ours() {
	local d me
	me=$(tr '\0' ' ' </proc/1/cmdline)
	for d in /proc/[0-9]*; do
		[ "$d" = /proc/1 ] && continue
		[ "$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)" = "$me" ] && continue
		echo "${d#/proc/}"
	done
}

# --- /etc: an overlay for this test only -------------------------------------
# Where the front looks for the fleet: /etc/ns-metadata-proxy/front.conf,
# root's, not writable by group or others. The machine's /etc is kept open
# below the overlay, to check it was left as it was.
exec {ETC_LOWER}</etc
MACHINE_ETC=/proc/1/fd/$ETC_LOWER/ns-metadata-proxy
machine_before=$(snapshot "$MACHINE_ETC")
mkdir "$T/etc-rw"
if ! mount -t tmpfs -o mode=0755,size=4m nmp-etc "$T/etc-rw" 2>"$W/mount.err"; then
	skip "neutron fleet" "a tmpfs is refused: $(escape_file "$W/mount.err" 200)"
	finish
fi
MOUNTED+=("$T/etc-rw")
mkdir "$T/etc-rw/upper" "$T/etc-rw/work"
if ! mount -t overlay overlay \
	-o "lowerdir=/etc,upperdir=$T/etc-rw/upper,workdir=$T/etc-rw/work" /etc 2>"$W/mount.err"; then
	skip "neutron fleet" "an overlay on /etc is refused: $(escape_file "$W/mount.err" 200)"
	finish
fi
MOUNTED+=(/etc)
mkdir -p /etc/ns-metadata-proxy
chmod 0755 /etc/ns-metadata-proxy
cat >/etc/ns-metadata-proxy/front.conf <<EOF
fleet = on
control_socket = $CTL
reconnect_timeout = 30
EOF
chown root:root /etc/ns-metadata-proxy /etc/ns-metadata-proxy/front.conf
chmod 0644 /etc/ns-metadata-proxy/front.conf
if [ -f "$T/etc-rw/upper/ns-metadata-proxy/front.conf" ] &&
	[ "$(snapshot "$MACHINE_ETC")" = "$machine_before" ]; then
	ok "front.conf written in this test's /etc only"
else
	fail "front.conf" "not in the overlay's upper directory, or the machine's /etc/ns-metadata-proxy changed"
	finish
fi

# --- the networks ------------------------------------------------------------
# Network i: flavour by i % 3 (1 DHCP, 2 L3, 0 OVN), its id (run tag and
# i), the namespace neutron would name qdhcp-, qrouter- or ovnmeta- (with
# our prefix), where its client asks and from which address.
# DHCP and OVN: 169.254.169.254/32 and 10.0.0.2/24 on the port's veth,
# the proxy on 169.254.169.254:80. L3: 10.0.0.1/24 on qr0, the proxy on
# 0.0.0.0:9697 (the driver's default bind, which the L3 agent turns into
# :: where IPv6 is on; neutron's NAT rule sends a VM's port 80 there, here
# the client asks 9697 itself). Networks 1-3 (one of
# each flavour) have a VM: a namespace of its own across the veth, at
# 10.0.0.5.
declare -a U FL NS KIND URL HOST PORT SRC VMNS PIDF CONF
setup_net() {
	local i=$1 fl=$2
	printf -v "U[$i]" '%08x-%04x-4000-8000-%012x' "$RUN" "$i" "$i"
	FL[i]=$fl
	# Where neutron writes its config and reads its pidfile.
	PIDF[i]=$S/external/pids/${U[i]}.pid.haproxy
	CONF[i]=$S/ns-metadata-proxy/${U[i]}.conf
	[ "$fl" = ovn ] && CONF[i]=$S/ovn-metadata-proxy/${U[i]}.conf
	case $fl in
	dhcp) NS[i]=nnf$RUN-qdhcp-$i KIND[i]=net HOST[i]=169.254.169.254 PORT[i]=80 SRC[i]=169.254.169.254 ;;
	l3) NS[i]=nnf$RUN-qrouter-$i KIND[i]=router HOST[i]=10.0.0.1 PORT[i]=9697 SRC[i]=10.0.0.1 ;;
	ovn) NS[i]=nnf$RUN-ovnmeta-$i KIND[i]=ovn HOST[i]=169.254.169.254 PORT[i]=80 SRC[i]=169.254.169.254 ;;
	esac
	URL[i]=http://${HOST[i]}:${PORT[i]}
	VMNS[i]=
	[ "$i" -le 3 ] && VMNS[i]=nnf$RUN-vm-$i
}

# make_ns I: network i's namespace (and its VM's) with their links up.
make_ns() {
	local i=$1 n=${NS[$1]} vm=${VMNS[$1]} dev=tap0 peer
	ip netns add "$n" 2>>"$W/ns.err" || return 1
	MADE_NS+=("$n")
	if [ -n "$vm" ]; then
		ip netns add "$vm" 2>>"$W/ns.err" || return 1
		MADE_NS+=("$vm")
		ip -n "$vm" link set lo up 2>>"$W/ns.err" || return 1
	fi
	[ "${FL[i]}" = l3 ] && dev=qr0
	peer="peer name ${dev}p"
	[ -n "$vm" ] && peer="peer name eth0 netns $vm"
	{
		echo "link set lo up"
		echo "link add $dev type veth $peer"
		[ -z "$vm" ] && echo "link set ${dev}p up"
		if [ "${FL[i]}" = l3 ]; then
			echo "addr add 10.0.0.1/24 dev $dev"
		else
			echo "addr add 10.0.0.2/24 dev $dev"
			echo "addr add 169.254.169.254/32 dev $dev"
		fi
		echo "link set $dev up"
	} | ip -n "$n" -batch - 2>>"$W/ns.err" || return 1
	[ -n "$vm" ] || return 0
	{
		echo "addr add 10.0.0.5/24 dev eth0"
		echo "link set eth0 up"
		[ "${FL[i]}" = l3 ] || echo "route add 169.254.169.254/32 via 10.0.0.2"
	} | ip -n "$vm" -batch - 2>>"$W/ns.err"
}

FLAVORS=(ovn dhcp l3)
for ((i = 1; i <= N; i++)); do
	setup_net "$i" "${FLAVORS[i % 3]}"
done
# Network N+1 comes when the fleet is gone (case 6): DHCP.
setup_net $((N + 1)) dhcp
ABS=$((N + 1))
KILLED=4       # case 3: DHCP
DESTROYED=5    # case 4: L3
LOADED=(6 7 8) # case 5: OVN, DHCP, L3

# --- the checks that read JSON ------------------------------------------------
NF=$T/nf.py
cat >"$NF" <<'EOF'
"""nf.py COMMAND ...: the checks of neutron_fleet.sh that read JSON.

nets CTL         every network the fleet serves, page after page of its
                 control protocol's list, as one JSON list
want NETS WANT   each line of WANT ("id kind flavor bind") is served once,
                 held, with that kind, flavour and bind, and nothing else
                 is: "ok", else one line per difference (at most 5)
survey MNT       for each "I PIDFILE CONF" line on stdin: "I PID EXE MNT
                 CMD", the pid in the pidfile, its executable, "same" when
                 in mount namespace MNT (else "other"), "ok" when it runs
                 `haproxy -f CONF` (else its command line); "I PID - - -"
                 when no such process runs
holding ID       "PID CMDLINE" of each process with ID in its command line
heads OUT PREFIX HOST EVIL EVIL_IP SIZE...
                 request heads of exactly SIZE bytes (padded with X-Pad),
                 the spoofed identity headers first or last, each a case
                 for raw_client.py in OUT; "name path size" lines
heads-note TSV RESULTS GROUP KIND ID SRC
                 raw_client.py's statuses as judge's expectations
judge EXPECT RECORD... [--final EVIL...]
                 each request of EXPECT (one JSON line: group, name, path,
                 kind, id, src, status, size) against what neutron's
                 agents recorded: answered 200, exactly one record, which
                 concluded the network's (or router's) id, the flavour,
                 the client's address as the instance's and as
                 X-Forwarded-For, a valid signature; a sized head may
                 instead be refused (431, 400) with no record. One line
                 per group: "ok<TAB>GROUP<TAB>what" or
                 "FAIL<TAB>GROUP<TAB>why". --final: also no record of a
                 request not sent, none naming an EVIL value.
"""
import json
import os
import socket
import sys


def lines(path):
    try:
        with open(path) as f:
            return [json.loads(x) for x in f if x.strip()]
    except FileNotFoundError:
        return []


def nets(ctl):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.connect(ctl)
    out, after = [], None
    while True:
        rq = {"v": 1, "op": "list"}
        if after:
            rq["after"] = after
        s.send(json.dumps(rq).encode())
        rp = json.loads(s.recv(1 << 20))
        if not rp.get("ok"):
            sys.exit("list refused: %s" % rp.get("error"))
        out += rp["networks"]
        if not rp.get("more") or not rp["networks"]:
            break
        after = rp["networks"][-1]["id"]
    print(json.dumps(out))


def survey(mnt1):
    for line in sys.stdin:
        i, pidfile, conf = line.split()
        try:
            pid = open(pidfile).read().strip()
        except OSError:
            pid = ""
        try:
            p = "/proc/%d" % int(pid)
            if open(p + "/stat").read().rsplit(")", 1)[1].split()[0] == "Z":
                raise OSError
            exe = os.readlink(p + "/exe")
            cmd = open(p + "/cmdline").read().split("\0")
            mnt = os.readlink(p + "/ns/mnt")
        except (OSError, ValueError):
            print("%s %s - - -" % (i, pid or "-"))
            continue
        cmd = "ok" if cmd == ["haproxy", "-f", conf, ""] else " ".join(cmd)
        print("%s %s %s %s %s" % (i, pid, exe, "same" if mnt == mnt1
                                  else "other", cmd))


def holding(ident):
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            cmd = open("/proc/%s/cmdline" % d).read().replace("\0", " ")
        except OSError:
            continue
        if ident in cmd:
            print("%s %s" % (d, cmd.strip()))


def want(nets_f, want_f):
    got = json.load(open(nets_f))
    by_id = {}
    for n in got:
        by_id.setdefault(n["id"], []).append(n)
    why = []
    wanted = set()
    for line in open(want_f):
        ident, kind, flavor, bind = line.split()
        wanted.add(ident)
        ns = by_id.get(ident, [])
        if len(ns) != 1:
            why.append("%s listed %d times" % (ident, len(ns)))
            continue
        n = ns[0]
        if (n["kind"], n["flavor"], n["binds"], n["held"]) != \
                (kind, flavor, [bind], True):
            why.append("%s is %s %s %s held %s, want %s %s [%s] held" % (
                ident, n["kind"], n["flavor"], n["binds"], n["held"], kind,
                flavor, bind))
    extra = [i for i in by_id if i not in wanted]
    if extra:
        why.append("%d not wanted, first %s" % (len(extra), extra[0]))
    missing = sorted(i for i in wanted if i not in by_id)
    if missing:
        why = [w for w in why if not w.endswith(" listed 0 times")]
        why.insert(0, "the fleet serves %d networks: %d of the %d wanted "
                   "are missing, first %s" % (len(got), len(missing),
                                              len(wanted), missing[0]))
    print("\n".join(why[:5]) if why else "ok")


def heads(out, prefix, host, evil, evil_ip, *sizes):
    spoof = ("X_Neutron_Router_ID: %s\r\nx-neutron_network-id: %s\r\n"
             "X-OVN_Network-ID: %s\r\nx_forwarded_for: %s\r\n"
             % (evil, evil, evil, evil_ip))
    cases = []
    for where in ("first", "last"):
        for size in map(int, sizes):
            path = "%s/size/%d/%s" % (prefix, size, where)
            start = "GET %s HTTP/1.1\r\nHost: %s\r\n%s" % (
                path, host, spoof if where == "first" else "")
            end = "%sConnection: close\r\n\r\n" % (
                spoof if where == "last" else "")
            pad = size - len(start) - len(end) - len("X-Pad: \r\n")
            cases.append({"name": "%d-%s" % (size, where), "path": path,
                          "size": size,
                          "data": start + "X-Pad: " + "a" * pad + "\r\n" +
                          end})
    json.dump(cases, open(out, "w"))
    for c in cases:
        print("%s %s %d" % (c["name"], c["path"], c["size"]))


def heads_note(tsv, results, group, kind, ident, src):
    try:
        res = json.load(open(results))
    except (OSError, ValueError):
        res = {}
    for line in open(tsv):
        name, path, size = line.split()
        sts = res.get(name, {}).get("statuses", [])
        print(json.dumps({"group": group, "name": name + " head",
                          "path": path, "kind": kind, "id": ident,
                          "src": src, "status": sts[0] if len(sts) == 1
                          else 0, "size": int(size)}))


def judge(exp_f, *rest):
    rest = list(rest)
    evil, final = [], "--final" in rest
    if final:
        k = rest.index("--final")
        rest, evil = rest[:k], rest[k + 1:]
    exps = lines(exp_f)
    recs = [r for f in rest for r in lines(f)]
    by_path = {}
    for r in recs:
        by_path.setdefault(r.get("path"), []).append(r)
    groups = {}
    for e in exps:
        g = groups.setdefault(e["group"], {"n": 0, "refused": 0, "why": []})
        g["n"] += 1
        got = by_path.get(e["path"], [])
        st = e["status"]
        want = {"network_id": e["id"] if e["kind"] != "router" else None,
                "router_id": e["id"] if e["kind"] == "router" else None,
                "flavor": "ovn" if e["kind"] == "ovn" else "neutron",
                "remote_address": e["src"], "forwarded_for": e["src"],
                "signed": True}
        why = None
        if st == 200 and len(got) != 1:
            why = "%d agent records, want 1" % len(got)
        elif st == 200:
            bad = ["%s %s, want %s" % (k, json.dumps(got[0].get(k)),
                                       json.dumps(v))
                   for k, v in want.items() if got[0].get(k) != v]
            why = ", ".join(bad) if bad else None
        elif e.get("size") and st in (400, 431) and got:
            why = "refused with %s, yet the agent concluded %s" % (
                st, json.dumps({k: got[0].get(k) for k in want}))
        elif e.get("size") and st in (400, 431):
            g["refused"] += 1
        else:
            why = "status %s, %d agent records" % (st or "none", len(got))
        if why:
            g["why"].append("%s (%s): %s" % (e["name"], e["path"], why))
    for name, g in groups.items():
        if g["why"]:
            print("FAIL\t%s\t%d of %d wrong: %s" % (
                name, len(g["why"]), g["n"], "; ".join(g["why"][:3])))
        else:
            print("ok\t%s\t%d requests%s" % (
                name, g["n"], ", %d refused before the agent" % g["refused"]
                if g["refused"] else ""))
    if not final:
        return
    known = {e["path"] for e in exps}
    stray = [r for r in recs if r.get("path") not in known]
    if stray:
        print("FAIL\tno record of a request no client sent\t%d, first %s" %
              (len(stray), json.dumps(stray[0])[:300]))
    else:
        print("ok\tno record of a request no client sent\t%d records" %
              len(recs))
    bad = [r for r in recs if any(x in json.dumps(r) for x in evil)]
    if bad:
        print("FAIL\tno spoofed value in any conclusion\t%d, first %s" %
              (len(bad), json.dumps(bad[0])[:300]))
    else:
        print("ok\tno spoofed value in any conclusion\t%d records" %
              len(recs))


cmd = sys.argv[1].replace("-", "_")
globals()[cmd](*sys.argv[2:])
EOF

# note FILE GROUP NAME PATH I SRC STATUS [SIZE]: one request of network i
# from address SRC, for judge.
note() {
	printf '{"group": "%s", "name": "%s", "path": "%s", "kind": "%s", "id": "%s", "src": "%s", "status": %d, "size": %s}\n' \
		"$2" "$3" "$4" "${KIND[$5]}" "${U[$5]}" "$6" "$((10#${7:-0}))" "${8:-null}" >>"$1"
}

# judge FILE [--final]: the requests of FILE against neutron's agents'
# records, one check per group (all of them with --final).
judge() {
	local v name why
	python3 "$NF" judge "$1" "$A/neutron.jsonl" "$A/ovn.jsonl" \
		${2:+--final "$EVIL" "$EVIL2" "$EVIL_IP"} >"$W/verdicts" 2>"$W/judge.err"
	[ -s "$W/judge.err" ] && fail "judge" "$(escape_file "$W/judge.err" 300)"
	while IFS=$'\t' read -r v name why; do
		if [ "$v" = ok ]; then
			ok "$name"
			echo "# $name: $why"
		else
			fail "$name" "$why"
		fi
	done <"$W/verdicts"
	[ -n "${2:-}" ] || cat "$1" >>"$W/expect.all"
}

# --- start: neutron's metadata agents, the fleet, neutron's agents -------------
# All at once (importing neutron takes seconds each); the namespaces are
# made meanwhile.
t0=$(ms)
for fl in neutron ovn; do
	"$PY" "$NAGENT" --flavor "$fl" --socket "$A/$fl.sock" --record "$A/$fl.jsonl" \
		</dev/null >"$A/$fl.out" 2>"$A/$fl.err" {ETC_LOWER}<&- &
	AGENT_PIDS+=($!)
done

# The driver: commands through two FIFOs (opened read-write here: no open
# blocks, no write gets SIGPIPE if it dies; every read is bounded).
mkfifo "$W/drv.in" "$W/drv.out"
exec {DIN}<>"$W/drv.in" {DOUT}<>"$W/drv.out"
PATH=$COMPAT:$PATH "$PY" "$PROCMGR" --state-path "$S" --socket "$A/neutron.sock" \
	--ovn-socket "$A/ovn.sock" --user "$PU" --group "$PG" --log-file "$W/neutron.log" \
	<"$W/drv.in" >"$W/drv.out" 2>"$W/drv.err" {DIN}>&- {DOUT}<&- {ETC_LOWER}<&- &
DRV_PID=$!

# drv CMD...: one command to neutron's agents; the answer in DRV (within
# DRV_TIMEOUT s, 60).
drv() {
	DRV=
	if ! alive "$DRV_PID"; then
		DRV="(neutron's agents are gone: $(escape_file "$W/drv.err" 200) $(tail -c 300 "$W/neutron.log" 2>/dev/null | tr '\n' ' '))"
		return 1
	fi
	printf '%s\n' "$*" >&"$DIN"
	if ! read -r -t "${DRV_TIMEOUT:-60}" DRV <&"$DOUT"; then
		DRV="(no answer to '$1' within ${DRV_TIMEOUT:-60} s)"
		return 1
	fi
}

fleet() {
	"$BIN" fleet "$@" --control-socket "$CTL"
}
fleet_up() {
	fleet list >/dev/null 2>&1
}
# listed: how many networks `fleet list` shows (-1: no answer).
listed() {
	local out
	out=$(fleet list 2>/dev/null) || {
		echo -1
		return
	}
	grep -vc '^#' <<<"$out"
}
# all_listed N: `fleet list` shows N networks.
all_listed() {
	[ "$(listed)" -eq "$1" ]
}
# is_listed ID: the fleet serves network ID.
is_listed() {
	fleet show "$1" >/dev/null 2>&1
}
# fleet_start NAME: `fleet serve` on CTL, as the proxy's account, its
# stderr in $F/serve.NAME.err; one failing check if it does not answer.
fleet_start() {
	"$BIN" fleet serve --control-socket "$CTL" --log-file "$F/fleet.log" \
		--metadata-proxy-user "$PU" --metadata-proxy-group "$PG" \
		</dev/null >>"$F/serve.out" 2>"$F/serve.$1.err" {DIN}>&- {DOUT}<&- {ETC_LOWER}<&- &
	FLEET_PID=$!
	wait_until -p "$FLEET_PID" "$WAIT_MAX" fleet_up && return 0
	fail "fleet serve ($1)" "does not answer on $CTL: $(escape_file "$F/serve.$1.err" 300)"
	return 1
}
# fleet_stop NAME: SIGTERM; it ends with 0, no sanitizer report.
fleet_stop() {
	kill -TERM "$FLEET_PID" 2>/dev/null
	reap "$FLEET_PID"
	FLEET_PID=
	expect_code "$1: SIGTERM ends the fleet with 0" 0 "$REAPED"
	CASE=$1 sanitizer_clean "$F/serve.$1.err"
}

if fleet_start first; then
	ok "fleet serve: answers on its control socket"
else
	finish
fi

for ((i = 1; i <= N + 1; i++)); do
	if make_ns "$i"; then
		continue
	fi
	if [ "$i" -eq 1 ]; then
		skip "neutron fleet" "the kernel refuses a network namespace or a veth: $(escape_file "$W/ns.err" 300)"
		finish
	fi
	fail "namespaces" "network $i of $N: $(escape_file "$W/ns.err" 300)"
	finish
done
echo "# $((N + 1)) namespaces in $(($(ms) - t0)) ms"

if read -r -t $((START_WAIT / 10)) line <&"$DOUT" && [ "$line" = ready ]; then
	ok "neutron's agents: set up"
else
	fail "neutron's agents" "no 'ready': $(escape_file "$W/drv.err" 400) $(tail -c 400 "$W/neutron.log" 2>/dev/null | tr '\n' ' ')"
	finish
fi
for k in 0 1; do
	fl=neutron
	[ "$k" = 1 ] && fl=ovn
	if wait_until -p "${AGENT_PIDS[k]}" "$START_WAIT" said_ready "$A/$fl.out"; then
		ok "neutron's $fl metadata agent: ready"
	else
		fail "neutron's $fl metadata agent" "no 'ready': $(escape_file "$A/$fl.err" 400)"
		finish
	fi
done
echo "# everything up in $(($(ms) - t0)) ms"

# --- what neutron sees of a proxy ---------------------------------------------
MNT1=$(readlink /proc/1/ns/mnt)
declare -a PID
# survey I...: for each network, the pid in neutron's pidfile (PID[i]);
# those whose process does not run `haproxy -f CONF` in SV_CMD, those not
# the stub in SV_STUB (with what they are), those outside PID 1's mount
# namespace in SV_MNT. One python for them all (a shell loop forks a
# dozen times a network).
survey() {
	local i pid exe mnt cmd
	SV_CMD=() SV_STUB=() SV_MNT=()
	for i in "$@"; do
		echo "$i ${PIDF[i]} ${CONF[i]}"
	done >"$W/survey.in"
	python3 "$NF" survey "$MNT1" <"$W/survey.in" >"$W/survey.out" 2>"$W/survey.err"
	while read -r i pid exe mnt cmd; do
		PID[i]=${pid#-}
		if [ "$exe" = - ]; then
			SV_CMD+=("network $i: pidfile '$pid', no such process")
			SV_STUB+=("network $i: no process")
			SV_MNT+=("$i")
			continue
		fi
		[ "$cmd" = ok ] || SV_CMD+=("network $i: pid $pid runs '$cmd'")
		[ "$exe" = "$STUB" ] || SV_STUB+=("network $i: pid $pid is ${exe##*/}")
		[ "$mnt" = same ] || SV_MNT+=("$i")
	done <"$W/survey.out"
	if [ -s "$W/survey.err" ]; then
		SV_CMD+=("survey: $(escape_file "$W/survey.err" 200)")
	fi
}
# all_stubs I...: survey; each is the stub.
all_stubs() {
	survey "$@"
	[ ${#SV_STUB[@]} -eq 0 ]
}
# holding ID: the processes with ID in their command line, "PID CMDLINE".
holding() {
	python3 "$NF" holding "$1"
}
# want_file I...: what the fleet should serve for these networks, for
# nf.py want.
want_file() {
	local i
	for i in "$@"; do
		case ${FL[i]} in
		dhcp) echo "${U[i]} network neutron 169.254.169.254:80" ;;
		l3) echo "${U[i]} router neutron 0.0.0.0:9697" ;;
		ovn) echo "${U[i]} network ovn 169.254.169.254:80" ;;
		esac
	done >"$W/want"
}
# fleet_serves NAME I...: the fleet lists exactly these networks, each
# once, held, as neutron configured it; one check.
fleet_serves() {
	local name=$1 why
	shift
	want_file "$@"
	if ! python3 "$NF" nets "$CTL" >"$W/nets.json" 2>"$W/nets.err"; then
		fail "$name" "no list from the fleet: $(escape_file "$W/nets.err" 200)"
		return
	fi
	why=$(python3 "$NF" want "$W/nets.json" "$W/want" 2>&1)
	if [ "$why" = ok ]; then
		ok "$name"
	else
		fail "$name" "$(tr '\n' ';' <<<"$why")${NO_HANDOFF:+ $NO_HANDOFF}"
	fi
}
NO_HANDOFF=
# How long to wait (tenths) for the fleet to list what it should: not
# long once the fronts are seen serving themselves (nothing would come).
long_wait() {
	if [ -n "$NO_HANDOFF" ]; then echo 5; else echo "$1"; fi
}
stub_check() { # stub_check NAME COUNT
	if [ ${#SV_STUB[@]} -eq 0 ]; then
		ok "$1"
	else
		fail "$1" "${#SV_STUB[@]} of $2 are not $(basename "$STUB") (the front served them itself: no handoff to the fleet); first: ${SV_STUB[0]}"
		NO_HANDOFF="(the fronts served their networks themselves)"
	fi
}

# --- 1. neutron spawns N proxies -----------------------------------------------
phase "spawn"
ALL=()
for ((i = 1; i <= N; i++)); do
	ALL+=("$i")
done
cmd=(spawn)
for i in "${ALL[@]}"; do
	cmd+=("${FL[i]}" "${U[i]}" "${NS[i]}")
done
t1=$(ms)
DRV_TIMEOUT=120 drv "${cmd[@]}"
assert "spawn: neutron's drivers start $N proxies (DHCP, L3, OVN) with ip netns exec" \
	"$DRV" [ "$DRV" = "spawned $N" ]
if [ "${DRV:0:1}" = "(" ]; then
	# neutron waits for `ip netns exec NS haproxy -f CONF` to exit and
	# for its stdout and stderr to close: a front that keeps them open
	# hangs the agent.
	fail "spawn" "neutron's agents hang: $(tail -c 300 "$W/neutron.log" | tr '\n' ' ')"
	finish
fi
echo "# $N proxies spawned by neutron in $(($(ms) - t1)) ms"
drv actives
assert "active: neutron's ProcessManager counts all $N active" "$DRV" \
	[ "$DRV" = "actives $N $N" ]
# The front may become the stub a moment after neutron's command returns
# (its pidfile is written by then).
wait_until 20 all_stubs "${ALL[@]}"
assert "pidfile: each pid neutron reads runs 'haproxy -f CONF' (the id in its command line)" \
	"${#SV_CMD[@]} of $N not: ${SV_CMD[*]:0:2}" [ ${#SV_CMD[@]} -eq 0 ]
stub_check "stub: each pid neutron reads is $(basename "$STUB")" "$N"
assert "stub: each is in PID 1's mount namespace (not the copy ip netns exec made)" \
	"${#SV_MNT[@]} of $N are not, first network ${SV_MNT[0]:-}" [ ${#SV_MNT[@]} -eq 0 ]
wait_until "$(long_wait 100)" all_listed "$N"
fleet_serves "fleet: lists all $N networks, each once, held, as neutron configured it" "${ALL[@]}"

# --- 2. each namespace's client gets its own identity -----------------------
# Every client spoofs the identity headers of every flavour and
# X-Forwarded-For; the agent must conclude its own network (or router) and
# address, once per request.
phase "identities"
: >"$W/expect.all"
E=$W/expect.2
: >"$E"
G="identity: a client in each of the $N namespaces, spoofing"
# ask_plain I...: each network's client, spoofing; "I STATUS" lines.
ask_plain() {
	local i code
	for i in "$@"; do
		code=$(ip netns exec "${NS[i]}" curl -sS --noproxy '*' --max-time 10 -o /dev/null \
			-w '%{http_code}' -H "X-Neutron-Network-ID: $EVIL" -H "X-OVN-Network-ID: $EVIL" \
			-H "X-Neutron-Router-ID: $EVIL" -H "X-Forwarded-For: $EVIL_IP" \
			"${URL[i]}/nf/$i/plain" 2>>"$W/curl.err")
		echo "$i ${code:-0}"
	done
}
# Two clients at a time (odd and even networks).
half=()
for i in "${ALL[@]}"; do
	((i % 2)) && half+=("$i")
done
ask_plain "${half[@]}" >"$W/plain.odd" &
LOAD_PIDS+=($!)
half=()
for i in "${ALL[@]}"; do
	((i % 2)) || half+=("$i")
done
ask_plain "${half[@]}" >"$W/plain.even"
for p in "${LOAD_PIDS[@]}"; do
	reap "$p"
done
LOAD_PIDS=()
while read -r i code; do
	note "$E" "$G" "network $i" "/nf/$i/plain" "$i" "${SRC[i]}" "$code"
done < <(cat "$W/plain.odd" "$W/plain.even")

# The spoofs, a VM's at a time (lib.sh): the network's own id as the real
# value of every identity header, the VM's address as X-Forwarded-For's.
spoof_list() { # spoof_list ID SRC: SPOOFS for a client at SRC of network ID
	identity_spoofs "$1" "$1" "$2"
}

# From a VM of each flavour, across its veth: a plain request, every spoof
# (one curl, a transfer each), then heads around the agent's 4 KiB read
# (raw_client.py, all at once).
GV="identity: a VM across a veth, each flavour"
GS="spoofs: identity headers in many spellings, from a VM of each flavour"
GH="heads around the agent's 4 KiB read, spoofs first or last, each flavour"
for i in 1 2 3; do
	code=$(ip netns exec "${VMNS[i]}" curl -sS --noproxy '*' --max-time 10 -o /dev/null \
		-w '%{http_code}' "${URL[i]}/nf/$i/vm" 2>>"$W/curl.err")
	note "$E" "$GV" "network $i" "/nf/$i/vm" "$i" 10.0.0.5 "$code"
	spoof_list "${U[i]}" 10.0.0.5
	args=()
	for k in "${!SPOOFS[@]}"; do
		[ "$k" -gt 0 ] && args+=(--next)
		args+=(-s --noproxy '*' --max-time 10 -o /dev/null -w "%{http_code} $k\n")
		IFS='|' read -r -a hs <<<"${SPOOFS[k]}"
		for h in "${hs[@]}"; do
			args+=(-H "$h")
		done
		args+=("${URL[i]}/nf/$i/spoof/$k")
	done
	ip netns exec "${VMNS[i]}" curl "${args[@]}" >"$W/spoof.$i" 2>>"$W/curl.err"
	for k in "${!SPOOFS[@]}"; do
		code=$(awk -v k="$k" '$2 == k {print $1}' "$W/spoof.$i")
		size=
		[ "$k" = $((${#SPOOFS[@]} - 1)) ] && size=${#SPOOFS[k]}
		note "$E" "$GS" "network $i spoof $k" "/nf/$i/spoof/$k" "$i" 10.0.0.5 "${code:-0}" "$size"
	done
	python3 "$NF" heads "$W/heads.$i.json" "/nf/$i" "${HOST[i]}" "$EVIL" "$EVIL_IP" \
		1000 3900 4000 4090 4096 4097 4200 6000 >"$W/heads.$i.tsv"
	ip netns exec "${VMNS[i]}" python3 "$CLIENT" cases "${HOST[i]}" "${PORT[i]}" \
		"$W/heads.$i.json" --idle 2 --timeout 20 >"$W/heads.$i.out" 2>>"$W/curl.err"
	python3 "$NF" heads-note "$W/heads.$i.tsv" "$W/heads.$i.out" "$GH" "${KIND[i]}" \
		"${U[i]}" 10.0.0.5 >>"$E"
done
judge "$E"

# --- 3. kill -9 of one stub ------------------------------------------------------
# neutron's monitor is held still (freeze) while the stub is killed, so the
# fleet is seen without its network before the respawn; then the monitor
# finds it gone within its second and respawns it.
phase "kill -9"
K=$KILLED
survey "$K"
old=${PID[K]}
fleet list 2>/dev/null | grep -v '^#' | sort >"$W/list.before"
printf 'freeze %s\n' "$FREEZE" >&"$DIN"
sleep 0.3
kill -KILL "$old" 2>/dev/null
not_listed() {
	! fleet list 2>/dev/null | grep -q "^${U[K]} "
}
wait_until 20 not_listed
fleet list 2>/dev/null | grep -v '^#' | sort >"$W/list.after"
n_after=$(wc -l <"$W/list.after")
grep -v "^${U[K]} " "$W/list.before" >"$W/list.others"
changed=$(diff "$W/list.others" "$W/list.after" | grep -c '^[<>]')
assert "kill -9: only the stub's network leaves the fleet ($((N - 1)) listed, the others as they were)" \
	"$n_after listed, want $((N - 1)); $changed other lines changed${NO_HANDOFF:+ $NO_HANDOFF}" \
	[ "$n_after" -eq $((N - 1)) -a "$changed" -eq 0 ]
if read -r -t $((FREEZE + 10)) line <&"$DOUT" && [ "$line" = thawed ]; then
	:
else
	fail "kill -9: neutron's agents held still for a moment" "answer '${line:-}'"
fi
respawned() {
	drv active "${U[K]}" && [ "${DRV%% *}" = active ] && [ "${DRV##* }" != "$old" ]
}
if wait_until 100 respawned; then
	ok "kill -9: neutron's monitor respawns it (pid $old, then ${DRV##* })"
else
	fail "kill -9: neutron's monitor respawns it" "neutron says: $DRV"
fi
assert "kill -9: neutron logged the respawn" "no 'Respawning' line for ${U[K]}" \
	grep -q "Respawning metadata-proxy for uuid ${U[K]}" "$W/neutron.log"
wait_until "$(long_wait 20)" all_stubs "$K"
stub_check "kill -9: the respawned one is the stub again" 1
if wait_until "$(long_wait 50)" is_listed "${U[K]}"; then
	ok "kill -9: its network is listed again"
else
	fail "kill -9: its network is listed again" "fleet show ${U[K]}: not served${NO_HANDOFF:+ $NO_HANDOFF}"
fi
E=$W/expect.3
: >"$E"
code=$(ip netns exec "${NS[K]}" curl -sS --noproxy '*' --max-time 10 -o /dev/null \
	-w '%{http_code}' -H "X-Neutron-Network-ID: $EVIL" "${URL[K]}/nf/$K/respawned" 2>>"$W/curl.err")
note "$E" "kill -9: the respawned network answers with its identity" "network $K" \
	"/nf/$K/respawned" "$K" "${SRC[K]}" "$code"
judge "$E"

# --- 4. neutron destroys one --------------------------------------------------
phase "destroy"
D=$DESTROYED
survey "$D"
old=${PID[D]}
drv destroy "${U[D]}"
assert "destroy: neutron's driver destroys one (L3)" "$DRV" [ "$DRV" = "destroyed 1" ]
assert "destroy: neutron removed its config and pidfile" \
	"left: $(find "${CONF[D]}" "${PIDF[D]}" 2>/dev/null | tr '\n' ' ')" \
	[ ! -e "${CONF[D]}" -a ! -e "${PIDF[D]}" ]
holders=$(holding "${U[D]}" | tr '\n' ' ')
alive "$old" && holders+=" (pid $old still runs)"
assert "destroy: no process is left (pid $old gone, none has its id)" "left: $holders" \
	[ -z "$holders" ]
REST=()
for i in "${ALL[@]}"; do
	[ "$i" = "$D" ] || REST+=("$i")
done
wait_until "$(long_wait 30)" not is_listed "${U[D]}"
fleet_serves "destroy: its network leaves the fleet, the $((N - 1)) others stay" "${REST[@]}"

# --- 5. the fleet restarted under load -------------------------------------------
# Clients in three namespaces (one per flavour) ask one after another for
# 4 s (400 requests at most each) while the fleet is stopped and started
# again; the listeners stay with the stubs, so connections wait in their
# backlogs: none may fail.
phase "restart"
load() { # load I: "PATH STATUS" lines in $W/load.I
	local i=$1 end=$(($(ms) + 4000)) k=0 code
	while [ "$(ms)" -lt "$end" ] && [ "$k" -lt 400 ]; do
		k=$((k + 1))
		code=$(ip netns exec "${NS[i]}" curl -s --noproxy '*' --max-time 10 -o /dev/null \
			-w '%{http_code}' "${URL[i]}/nf/$i/load/$k" 2>/dev/null)
		echo "/nf/$i/load/$k ${code:-000}"
	done >"$W/load.$i"
}
survey "${REST[@]}"
before_pids=$(for i in "${REST[@]}"; do echo "$i ${PID[i]}"; done)
for i in "${LOADED[@]}"; do
	load "$i" &
	LOAD_PIDS+=($!)
done
sleep 1
fleet_stop "restart"
fleet_start "restarted" && ok "restart: the fleet is back on the same socket"
for p in "${LOAD_PIDS[@]}"; do
	reap "$p"
done
LOAD_PIDS=()
reqs=$(cat "$W"/load.* | wc -l)
fails=$(awk '$2 != 200' "$W"/load.* | wc -l)
echo "# restart: $reqs requests in 3 namespaces across it"
assert "restart: no request failed or was refused across it" \
	"$fails of $reqs not 200, first: $(awk '$2 != 200' "$W"/load.* | head -1)" \
	[ "$fails" -eq 0 -a "$reqs" -gt 0 ]
E=$W/expect.5
: >"$E"
for i in "${LOADED[@]}"; do
	while read -r path code; do
		[ "$code" = 200 ] || continue
		note "$E" "restart: each request answered with its network's identity" "network $i" \
			"$path" "$i" "${SRC[i]}" "$code"
	done <"$W/load.$i"
done
judge "$E"
survey "${REST[@]}"
after_pids=$(for i in "${REST[@]}"; do echo "$i ${PID[i]}"; done)
same_text "restart: the same proxies serve (no pid changed)" "$before_pids" "$after_pids" "pids changed: "
wait_until "$(long_wait 100)" all_listed $((N - 1))
fleet_serves "restart: all $((N - 1)) networks are listed again" "${REST[@]}"

# --- 5b. by hand: -db and -p, as today, with the fleet ---------------------------
# The front started by hand in the foreground (-db) with its own pidfile
# (-p) on a copy of a DHCP network's config under another id: handed over
# as neutron's are, the same process stays in the foreground as the stub,
# the pidfile names it, and its SIGTERM ends it with 0 and takes the
# network out of the fleet.
phase "by hand"
HAND=$((N + 2))
setup_net "$HAND" dhcp
hand_tpl=
for i in "${REST[@]}"; do
	[ "${FL[i]}" = dhcp ] && hand_tpl=$i && break
done
if [ -n "$hand_tpl" ] && make_ns "$HAND"; then
	mkdir -m 0700 "$W/hand"
	sed -e "s/${U[hand_tpl]}/${U[HAND]}/g" "${CONF[hand_tpl]}" >"$W/hand/front.conf"
	chmod 0600 "$W/hand/front.conf"
	# As neutron's newer agents run it: PROCESS_TAG in the environment.
	ip netns exec "${NS[HAND]}" env PROCESS_TAG="haproxy-${U[HAND]}" NMP_JUNK=1 \
		"$BUILD/compat/haproxy" -db -p "$W/hand/pid" -f "$W/hand/front.conf" \
		</dev/null >"$W/hand/out" 2>"$W/hand/err" {DIN}>&- {DOUT}<&- &
	hand_pid=$!
	hand_listed() {
		is_listed "${U[HAND]}"
	}
	wait_until -p "$hand_pid" "$WAIT_MAX" hand_listed
	assert "by hand: -db hands the network to the fleet" "not listed: $(escape_file "$W/hand/err" 300)" hand_listed
	hand_stub() {
		[ "$(readlink "/proc/$hand_pid/exe" 2>/dev/null)" = "$BUILD/ns-metadata-proxy-stub" ]
	}
	wait_until -p "$hand_pid" 20 hand_stub
	assert "by hand: the same process, in the foreground, is the stub" \
		"exe '$(readlink "/proc/$hand_pid/exe" 2>/dev/null)'" hand_stub
	assert "by hand: -p names it" "pidfile '$(cat "$W/hand/pid" 2>/dev/null)', pid $hand_pid" \
		[ "$(cat "$W/hand/pid" 2>/dev/null)" = "$hand_pid" ]
	hand_env=$(tr '\0' ' ' <"/proc/$hand_pid/environ" 2>/dev/null)
	assert "by hand: the stub keeps PROCESS_TAG and nothing else of the environment" \
		"environment '$hand_env'" [ "$hand_env" = "PROCESS_TAG=haproxy-${U[HAND]} " ]
	# neutron's monitor may start the front again the moment its stub
	# died, before the fleet has read the hang-up and let the listener go
	# (here the fleet is stopped meanwhile): the front waits for its
	# address, a while, then hands over.
	kill -STOP "$FLEET_PID"
	kill -KILL "$hand_pid" 2>/dev/null
	reap "$hand_pid"
	ip netns exec "${NS[HAND]}" "$BUILD/compat/haproxy" -db -p "$W/hand/pid" \
		-f "$W/hand/front.conf" </dev/null >"$W/hand/out" 2>"$W/hand/err2" {DIN}>&- {DOUT}<&- &
	hand_pid=$!
	sleep 0.5
	kill -CONT "$FLEET_PID"
	wait_until -p "$hand_pid" "$WAIT_MAX" hand_stub
	assert "by hand: started again as its stub dies, it waits for its address and hands over" \
		"exe '$(readlink "/proc/$hand_pid/exe" 2>/dev/null)': $(escape_file "$W/hand/err2" 300)" hand_stub
	wait_until -p "$hand_pid" "$WAIT_MAX" hand_listed
	assert "by hand: and the fleet serves it again" "not listed" hand_listed
	code=$(ip netns exec "${NS[HAND]}" curl -sS --noproxy '*' --max-time 10 -o /dev/null \
		-w '%{http_code}' "${URL[HAND]}/nf/$HAND/hand" 2>>"$W/curl.err")
	E=$W/expect.5b
	: >"$E"
	note "$E" "by hand: it answers with its identity" "network $HAND" "/nf/$HAND/hand" "$HAND" "${SRC[HAND]}" "$code"
	judge "$E"
	kill -TERM "$hand_pid" 2>/dev/null
	reap "$hand_pid"
	expect_code "by hand: SIGTERM ends the stub with 0" 0 "$REAPED"
	hand_gone() {
		! is_listed "${U[HAND]}"
	}
	wait_until "$WAIT_MAX" hand_gone
	assert "by hand: its network left the fleet" "still listed" hand_gone
	assert "by hand: the pidfile is gone or still names it" "'$(cat "$W/hand/pid" 2>/dev/null)'" \
		bash -c "[ ! -e '$W/hand/pid' ] || [ \"\$(cat '$W/hand/pid')\" = $hand_pid ]"
else
	fail "by hand" "no DHCP network or namespace for it: $(escape_file "$W/ns.err" 200)"
fi

# --- 6. no fleet: the front serves the network itself ----------------------
phase "no fleet"
fleet_stop "absent"
i=$ABS
t1=$(ms)
drv spawn "${FL[i]}" "${U[i]}" "${NS[i]}"
assert "no fleet: neutron spawns one more network" "$DRV" [ "$DRV" = "spawned 1" ]
drv active "${U[i]}"
assert "no fleet: it is active for neutron" "$DRV" [ "${DRV%% *}" = active ]
survey "$i"
exe=$(readlink "/proc/${PID[i]:-0}/exe" 2>/dev/null)
assert "no fleet: it serves itself (/proc/PID/exe is ns-metadata-proxy)" "exe '$exe'" \
	[ "$exe" = "$BUILD/$(basename "$BIN")" ]
E=$W/expect.6
: >"$E"
code=$(ip netns exec "${NS[i]}" curl -sS --noproxy '*' --max-time 10 -o /dev/null \
	-w '%{http_code}' -H "X-Neutron-Router-ID: $EVIL" "${URL[i]}/nf/$i/alone" 2>>"$W/curl.err")
note "$E" "no fleet: it answers with its identity" "network $i" "/nf/$i/alone" "$i" "${SRC[i]}" "$code"
judge "$E"
if [ -n "${NMP_SYSLOG_OUT:-}" ]; then
	# One line, from the front of that network, naming the network and
	# why: the control socket it found nobody on.
	says_itself() {
		grep -q "serving network ${U[ABS]} itself" "$NMP_SYSLOG_OUT"
	}
	wait_until 20 says_itself
	lines=$(grep "serving network ${U[i]} itself" "$NMP_SYSLOG_OUT")
	n=$(grep -c . <<<"$lines")
	why=$(grep -cE "$CTL|fleet" <<<"$lines")
	assert "no fleet: one log line says it serves network ${U[i]} itself, and why" \
		"$n lines '... serving network ${U[i]} itself' in the log, $why naming $CTL or the fleet (want 1 and 1): $(head -c 300 <<<"$lines" | tr '\n' ' ')" \
		[ "$n" -eq 1 -a "$why" -eq 1 ]
else
	skip "no fleet: the log line" "no syslog listener (run under tests/support/devlog.sh)"
fi

# --- 7. the end: everything destroyed through neutron -----------------------------
phase "the end"
END=("${REST[@]}" "$ABS")
ids=()
for i in "${END[@]}"; do
	ids+=("${U[i]}")
done
t1=$(ms)
DRV_TIMEOUT=120 drv destroy "${ids[@]}"
assert "end: neutron destroys all ${#END[@]}" "$DRV" [ "$DRV" = "destroyed ${#END[@]}" ]
echo "# ${#END[@]} proxies destroyed by neutron in $(($(ms) - t1)) ms"
drv actives
assert "end: neutron knows no proxy" "$DRV" [ "$DRV" = "actives 0 0" ]
files=$(find "$S/ns-metadata-proxy" "$S/ovn-metadata-proxy" "$S/external/pids" -type f 2>/dev/null)
assert "end: neutron removed every config and pidfile" "left: $(head -c 300 <<<"$files" | tr '\n' ' ')" [ -z "$files" ]
respawns=$(grep -c "Respawning" "$W/neutron.log")
assert "end: neutron respawned only the stub killed (no proxy died on its own)" \
	"$respawns respawns: $(grep "Respawning" "$W/neutron.log" | grep -v "${U[K]}" | head -2 | tr '\n' ' ')" \
	[ "$respawns" -eq 1 ]
# (An empty pidfile is such an error: neutron reads it while a proxy it
# stopped is going, and logs "Unable to convert value"; a proxy that
# cannot remove its pidfile should leave its pid in it, as haproxy does.)
errors=$(grep " ERROR " "$W/neutron.log" | grep -v "uuid ${U[K]} not found")
assert "end: neutron logged no error (but the killed stub's)" \
	"$(grep -c . <<<"$errors") lines, $(grep -c "Unable to convert value in .*pid.haproxy" <<<"$errors") of them an empty pidfile read; first: $(head -1 <<<"$errors" | cut -c1-300)" \
	[ -z "$errors" ]
drv quit
reap "$DRV_PID"
DRV_PID=
for p in "${AGENT_PIDS[@]}"; do
	kill -TERM "$p" 2>/dev/null
	reap "$p"
done
AGENT_PIDS=()
# What is left in this PID namespace: nothing but this script.
left_over() {
	[ -z "$(ours)" ]
}
wait_until 30 left_over
left=$(for p in $(ours); do echo "$p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"; done)
assert "end: no process of ours is left" "$(head -c 300 <<<"$left" | tr '\n' ' ')" [ -z "$left" ]
judge "$W/expect.all" final
if [ -n "$SAN_DIR" ]; then
	reports=$(find "$SAN_DIR" -type f)
	assert "end: no sanitizer report from any process" \
		"$(grep -c . <<<"$reports") reports, first $(head -1 <<<"$reports"): $(head -c 400 "$(head -1 <<<"$reports")" 2>/dev/null | tr '\n' ' ')" \
		[ -z "$reports" ]
fi
same_text "end: the machine's /etc/ns-metadata-proxy as it was" "$machine_before" \
	"$(snapshot "$MACHINE_ETC")" "changed: "
phase "done"
finish
