#!/bin/bash
# What neutron's own metadata agent concludes behind the proxy: the agent is
# tests/support/neutron_agent.py, neutron's MetadataProxyHandler (and the
# OVN one) under neutron's unix-socket WSGI server, with only the port
# lookup and the call to nova stubbed; its answer and its record say which
# instance it found, from which network or router and which address. Each
# way of serving is replayed against it:
#   haproxy  `run` with haproxy exec'd in place
#   builtin  `run --engine builtin`
#   front    `haproxy -f CONF` on a config written by neutron's own code
#            (tests/support/neutron_render.py), as neutron's agents run it
# with each flavour (network, router, OVN): a plain request, spoofed
# identity headers and X-Forwarded-For in many spellings, repeated and next
# to the real names, and request heads around the agent's 4 KiB read. The
# agent must conclude the real identity and the client's address, or the
# proxy must refuse before the agent (431; 400 from haproxy); it must never
# conclude a spoofed identity nor be reached without our headers.
#
# The neutron packaged here (Debian's, Zed) reads the request
# with eventlet.wsgi, which takes the whole head; the single 4 KiB recv is
# that of newer releases. So the sized heads check what the agent concludes on
# either side of the proxy's limit; that the head fits one 4 KiB read is
# checked byte for byte by tests/e2e/proxy.sh with the fake agent.
#
# Real curl as the VM; only processes this script started are stopped, by
# pid.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PY=/usr/bin/python3 # Debian's, where python3-neutron is
NAGENT=$SRC/tests/support/neutron_agent.py
RENDER=$SRC/tests/support/neutron_render.py
HAPROXY=/usr/sbin/haproxy
EVIL=deadbeef-dead-4bad-8bad-deadbeefdead # what a VM claims to be
EVIL2=feedface-dead-4bad-8bad-feedfacedead
EVIL_IP=10.9.8.7
RID=$ID2
AGENT_WAIT=300 # polls of 0.1 s: importing neutron takes seconds
# Every helper's python3 (lib.sh's too) is Debian's: it starts fast, and
# the agent needs it anyway.
PATH=/usr/bin:/bin:$PATH

need_commands curl python3
if ! "$PY" -c 'import neutron.agent.metadata.agent, neutron.agent.ovn.metadata.server, eventlet' 2>"$T/import.err"; then
	skip "neutron's metadata agent" "python3-neutron is not importable by $PY: $(escape_file "$T/import.err" 200)"
	finish
fi
WAYS=(builtin front)
if [ -x "$HAPROXY" ]; then
	WAYS=(haproxy builtin front)
else
	skip "haproxy engine" "$HAPROXY is missing"
fi

# --- the agents ----------------------------------------------------------------
# Two agents for the whole run (each takes seconds to start): neutron's
# handler (network and router) and the OVN one. Their sockets live in a
# directory the front's user can reach; their records are per flavour.

A=$T/agents
mkdir -m 0755 "$A"
chmod 0711 "$T"
NEUTRON_PID=
OVN_PID=

agents_stop() {
	local p
	for p in "$NEUTRON_PID" "$OVN_PID"; do
		[ -n "$p" ] || continue
		alive "$p" && kill -TERM "$p" 2>/dev/null
		reap "$p"
	done
	NEUTRON_PID=
	OVN_PID=
}
at_exit agents_stop

# nagent FLAVOR: start the agent of FLAVOR (neutron|ovn) on $A/FLAVOR.sock,
# recording to $A/FLAVOR.jsonl; its pid in NAGENT_PID.
nagent() {
	"$PY" "$NAGENT" --flavor "$1" --socket "$A/$1.sock" --record "$A/$1.jsonl" \
		</dev/null >"$A/$1.out" 2>"$A/$1.err" &
	NAGENT_PID=$!
}
nagent neutron
NEUTRON_PID=$NAGENT_PID
nagent ovn
OVN_PID=$NAGENT_PID
t0=$(ms)
for f in neutron ovn; do
	p=$NEUTRON_PID
	[ "$f" = ovn ] && p=$OVN_PID
	if wait_until -p "$p" "$AGENT_WAIT" said_ready "$A/$f.out"; then
		ok "agent $f: ready"
	else
		fail "agent $f: ready" "no 'ready' within $((AGENT_WAIT / 10)) s: $(escape_file "$A/$f.err" 600)"
		finish
	fi
done
echo "# agents ready in $(($(ms) - t0)) ms"

# The socket mode neutron applies for "all" (the front drops to another user).
[ "$(stat -c %a "$A/neutron.sock")" = 666 ] && ok "agent socket mode 0666 (neutron's)" ||
	fail "agent socket mode" "$(stat -c %a "$A/neutron.sock")"

# --- the configs neutron writes, for the front -------------------------------
# All rendered by one process (importing neutron is slow), each with its own
# port, state directory and pidfile, and the agent socket of its flavour.

declare -A FRONT_PORT FRONT_CONF FRONT_PF
mkdir -m 0755 "$T/run"
render=()
for fl in network router ovn; do
	pick_port
	FRONT_PORT[$fl]=$PORT
	FRONT_PF[$fl]=$T/run/$fl.pid
	case $fl in
	network) ra=(--driver neutron --network-id "$ID" --socket "$A/neutron.sock") ;;
	router) ra=(--driver neutron --router-id "$RID" --socket "$A/neutron.sock") ;;
	ovn) ra=(--driver ovn --network-id "$ID" --socket "$A/ovn.sock") ;;
	esac
	[ ${#render[@]} -gt 0 ] && render+=(--and)
	render+=("${ra[@]}" --state-path "$T/r-$fl" --bind 127.0.0.1 --port "$PORT"
		--user "$NMP_USER" --group "$NMP_GROUP" --pidfile "${FRONT_PF[$fl]}")
done
mapfile -t confs < <("$PY" "$RENDER" "${render[@]}" 2>"$T/render.err")
if [ "${#confs[@]}" = 3 ]; then
	ok "neutron's code wrote the front's configs"
	FRONT_CONF[network]=${confs[0]}
	FRONT_CONF[router]=${confs[1]}
	FRONT_CONF[ovn]=${confs[2]}
else
	fail "neutron's code wrote the front's configs" "${#confs[@]} of 3: $(escape_file "$T/render.err" 400)"
	WAYS=("${WAYS[@]/front/}")
fi

# --- the agent's conclusions ---------------------------------------------------
# Every request of a case is noted in $D/expect (one JSON line: name, the
# path the agent would see, the status the client got, the answer body, and
# for a sized head its size: it may be refused); check.py then judges all
# of them against what the agent recorded, matched by path.

cat >"$T/check.py" <<'EOF'
"""check.py EXPECT ALL RECORD BEFORE WAY KIND ID XFF CASES EVIL...

Prints "ok<TAB>NAME" or "FAIL<TAB>NAME<TAB>WHY" per request of EXPECT.
A request answered 200 must have exactly one record (the record file had
BEFORE lines when the case began), its answer must be that record, and
the agent must have concluded right: the instance it found is the port of
ID (a network, or a router) at address XFF, nova would get
X-Forwarded-For XFF and a valid signature, and no EVIL value appears. A
sized head may instead be refused (431; 400 from haproxy or for a head
beyond any buffer) with nothing reaching the agent. CASES is the output
of raw_client.py cases, for requests noted with a "case" name ("-": none).
ALL notes every request of the case so far: a record of none of them is a
request the client did not send.
"""
import json
import sys

exp_f, all_f, rec_f, before, way, kind, wid, xff, cases_f = sys.argv[1:10]
evil = sys.argv[10:]


def lines(path):
    try:
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


exps = lines(exp_f)
recs = lines(rec_f)[int(before):]
try:
    cases = json.load(open(cases_f)) if cases_f != "-" else {}
except (OSError, ValueError):
    cases = {}
by_path = {}
for r in recs:
    by_path.setdefault(r.get("path"), []).append(r)
want = {"network_id": wid if kind in ("net", "ovn") else None,
        "router_id": wid if kind == "router" else None,
        "flavor": "ovn" if kind == "ovn" else "neutron",
        "remote_address": xff, "forwarded_for": xff, "signed": True}


def concluded(c):
    return json.dumps({k: c.get(k) for k in ("network_id", "router_id",
                                             "remote_address",
                                             "forwarded_for")})


for e in exps:
    name, path, st = e["name"], e["path"], e.get("status")
    if e.get("case"):
        sts = cases.get(e["case"], {}).get("statuses", [])
        st = sts[0] if len(sts) == 1 else "%s" % sts
    got = by_path.get(path, [])
    why = []
    if st == 200:
        if len(got) != 1:
            why.append("%d agent records, want 1" % len(got))
        else:
            c = got[0]
            if e.get("body"):
                try:
                    body = json.load(open(e["body"]))
                except (OSError, ValueError):
                    body = None
                if body != c:
                    why.append("the answer is not the agent's record")
            for k, v in want.items():
                if c.get(k) != v:
                    why.append("%s %s, want %s" % (k, json.dumps(c.get(k)),
                                                   json.dumps(v)))
            if any(x in json.dumps(c) for x in evil):
                why.append("a spoofed value in the conclusion")
            if why:
                why.append("concluded " + concluded(c))
    elif e.get("size") is not None and \
            (st == 431 or (st == 400 and (way == "haproxy" or
                                          e["size"] > 15000))):
        if got:
            why.append("refused with %s, yet the agent concluded %s" %
                       (st, concluded(got[0])))
        else:
            name += ": refused (%s)" % st
    else:
        why.append("status %s, %d agent records%s" % (
            st, len(got), (": " + concluded(got[0])) if got else ""))
    if why:
        print("FAIL\t%s\t%s" % (name, "; ".join(why)))
    else:
        print("ok\t%s" % name)
known = {e["path"] for e in lines(all_f)}
stray = [r for r in recs if r.get("path") not in known]
if stray:
    print("FAIL\tno request the client did not send\t%d stray records, "
          "first %s" % (len(stray), json.dumps(stray[0])[:300]))
EOF

# expect NAME PATH STATUS [BODY] [SIZE] [CASE]: note one request.
expect() {
	printf '{"name": "%s", "path": "%s", "status": %s, "body": "%s", "size": %s, "case": "%s"}\n' \
		"$CASE: $1" "$2" "${3:-null}" "${4:-}" "${5:-null}" "${6:-}" >>"$D/expect"
}

# judge [CASES]: every request noted since the last judge, judged (one
# check each), against the records made since the case began.
judge() {
	local v name why
	cat "$D/expect" >>"$D/expect.all"
	python3 "$T/check.py" "$D/expect" "$D/expect.all" "$REC" "$BEFORE" "$WAY" "$KIND" "$WID" \
		127.0.0.1 "${1:--}" "$EVIL" "$EVIL2" "$EVIL_IP" >"$D/verdicts" 2>"$D/check.err"
	[ -s "$D/check.err" ] && fail "$CASE: checker" "$(escape_file "$D/check.err" 300)"
	while IFS=$'\t' read -r v name why; do
		if [ "$v" = ok ]; then
			ok "$name"
		else
			fail "$name" "$why"
		fi
	done <"$D/verdicts"
	: >"$D/expect"
}

# --- serving -------------------------------------------------------------------

# serve WAY FLAVOR: case_begin, then the proxy of WAY for FLAVOR listening
# on PORT in PROXY_PID, talking to the agent of FLAVOR; KIND and WID say
# what the agent must conclude. Fails the case's start and returns 1 if
# it does not listen.
serve() {
	local way=$1 fl=$2 ida=() front_pid
	case_begin "$way $fl" || return 1
	case $fl in
	network) KIND=net WID=$ID ida=(--network-id "$ID") ;;
	router) KIND=router WID=$RID ida=(--router-id "$RID") ;;
	ovn) KIND=ovn WID=$ID ida=(--network-id "$ID" --flavor ovn) ;;
	esac
	SOCK=$A/neutron.sock
	REC=$A/neutron.jsonl
	if [ "$fl" = ovn ]; then
		SOCK=$A/ovn.sock
		REC=$A/ovn.jsonl
	fi
	if [ "$way" = front ]; then
		PORT=${FRONT_PORT[$fl]}
		rm -f "${FRONT_PF[$fl]}"
		# As neutron's agents run it: returns once daemonized, the
		# serving pid in the config's pidfile with the uuid in its
		# command line.
		timeout 20 "$BIN" haproxy -f "${FRONT_CONF[$fl]}" </dev/null \
			>"$D/proxy.out" 2>"$D/proxy.err"
		RC=$?
		front_pid=$(cat "${FRONT_PF[$fl]}" 2>/dev/null)
		if [ "$RC" != 0 ] || [ -z "$front_pid" ] || ! alive "$front_pid" ||
			! tr '\0' ' ' <"/proc/$front_pid/cmdline" | grep -qF -- "$WID"; then
			fail "$CASE: proxy starts" "exit $RC, pidfile '$front_pid': $(escape_file "$D/proxy.err" 400)"
			return 1
		fi
		PROXY_PID=$front_pid
		PROXY_STOP=()
	else
		local eng=()
		[ "$way" = builtin ] && eng=(--engine builtin)
		PROXY_STOP=("$BIN" stop "${ida[@]}" --state-path "$D" --pid-file "$D/p.pid")
		"$BIN" run "${ida[@]}" "${eng[@]}" --state-path "$D" \
			--metadata-proxy-socket "$SOCK" --bind-address 127.0.0.1 \
			--metadata-port "$PORT" --metadata-proxy-user "$NMP_USER" \
			--metadata-proxy-group "$NMP_GROUP" --pid-file "$D/p.pid" \
			</dev/null >"$D/proxy.out" 2>"$D/proxy.err" &
		PROXY_PID=$!
	fi
	URL=http://127.0.0.1:$PORT
	if wait_until -p "$PROXY_PID" "$WAIT_MAX" listens "$PORT"; then
		ok "$CASE: proxy starts"
		return 0
	fi
	fail "$CASE: proxy starts" "not listening on $PORT: $(escape_file "$D/proxy.err" 400)"
	return 1
}

# unserve: the case's proxy stopped (`stop` for run, SIGTERM for the front,
# which is how neutron stops it), one check; then case_end.
unserve() {
	if [ -n "$PROXY_PID" ]; then
		if [ ${#PROXY_STOP[@]} -gt 0 ]; then
			proxy_stop "$D/proxy.err"
		else
			kill -TERM "$PROXY_PID" 2>/dev/null
			wait_until 50 not alive "$PROXY_PID"
			if alive "$PROXY_PID"; then
				fail "$CASE: SIGTERM stops it" "pid $PROXY_PID still alive"
				kill -KILL "$PROXY_PID" 2>/dev/null
			else
				ok "$CASE: SIGTERM stops it"
			fi
			PROXY_PID=
		fi
	fi
	case_end
}

# get NAME PATH CURLARGS...: one request with curl, noted for judge: it
# must be answered 200 with the right conclusion (or, when GET_SIZE is the
# size of a big head, refused before the agent). PATH is made unique to
# the case (the agents and their records outlive it).
N=0
get() {
	local name=$1 path=/$WAY/$2
	shift 2
	N=$((N + 1))
	http "$URL$path" "$@"
	cp "$D/body" "$D/body.$N" 2>/dev/null
	expect "$name" "$path" "$CODE" "$D/body.$N" "${GET_SIZE:-}"
}

# --- cases -----------------------------------------------------------------

# The spoofs (lib.sh): each one request's extra headers, '|' between
# them; the real names carry the real values of this run's network and
# router, and the client's address.
identity_spoofs "$ID" "$RID" 127.0.0.1
# All of them in one request, once (the last spoof has them twice).
ALL=$(printf '%s|' "${SPOOFS[@]:0:${#SPOOFS[@]}-1}")
ALL=${ALL%|}

# hargs "H1|H2|...": the -H arguments in HA.
hargs() {
	local h hs
	HA=()
	IFS='|' read -r -a hs <<<"$1"
	for h in "${hs[@]}"; do
		HA+=(-H "$h")
	done
}

spoofs() {
	local s i label w
	for ((i = 0; i < ${#SPOOFS[@]}; i++)); do
		s=${SPOOFS[i]}
		hargs "$s"
		label=${s:0:50}
		[ ${#s} -gt 50 ] && label+=...
		# every spoof at once, twice, makes a head of some 4 KiB: it
		# may be refused
		GET_SIZE=
		[ ${#s} -gt 2000 ] && GET_SIZE=${#s}
		get "spoof $i ($label)" "spoof/$i" "${HA[@]}"
		GET_SIZE=
	done
	# The second request on a kept-alive client connection too.
	hargs "$ALL"
	w=$(curl -sS -g --noproxy '*' --max-time 10 -o "$D/ka1" -o "$D/ka2" \
		-w '%{http_code} %{num_connects};' "${HA[@]}" "$URL/$WAY/ka/1" "$URL/$WAY/ka/2" 2>"$D/curl.err")
	if [ "$w" = "200 1;200 0;" ]; then
		ok "$CASE: keep-alive: two spoofed requests on one connection"
	else
		fail "$CASE: keep-alive" "curl: '$w' (want '200 1;200 0;')"
	fi
	expect "keep-alive: first request" "/$WAY/ka/1" "${w:0:3}" "$D/ka1"
	expect "keep-alive: second request" "/$WAY/ka/2" "$(cut -d';' -f2 <<<"$w" | cut -c1-3)" "$D/ka2"
}

# The agent's 4 KiB read: request heads of exactly SIZE bytes from the
# client, padded with one X-Pad header, sent raw, all at once, each on its
# own connection. Spoofed identity headers at the start of the head (where
# one 4 KiB read would find them, with ours past it if the proxy appended
# them), at its end, or none.
cat >"$T/heads.py" <<'EOF'
import json
import os
import sys

out, prefix, evil, evil_ip = sys.argv[1:5]
sizes = [int(s) for s in sys.argv[5:]]
spoof = ("X_Neutron_Router_ID: %s\r\nx-neutron_network-id: %s\r\n"
         "X-OVN_Network-ID: %s\r\nx_forwarded_for: %s\r\n"
         % (evil, evil, evil, evil_ip))
cases = []
for where in os.environ.get("WHERE", "none first last").split():
    for size in sizes:
        path = "%s/size/%d/%s" % (prefix, size, where)
        start = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s" % (
            path, spoof if where == "first" else "")
        end = "%sConnection: close\r\n\r\n" % (
            spoof if where == "last" else "")
        pad = size - len(start) - len(end) - len("X-Pad: \r\n")
        if pad < 1:
            sys.exit("size %d too small" % size)
        cases.append({"name": "%d-%s" % (size, where), "path": path,
                      "size": size, "where": where,
                      "data": start + "X-Pad: " + "a" * pad + "\r\n" + end})
json.dump(cases, open(out, "w"))
for c in cases:
    print("%s\t%s\t%d\t%s" % (c["name"], c["path"], c["size"], c["where"]))
EOF

SIZES=(1000 3500 3800 3900 3950 4000 4050 4090 4096 4097 4200 6000 20000)

sizes() {
	local name path size where
	python3 "$T/heads.py" "$D/heads.json" "/$WAY" "$EVIL" "$EVIL_IP" "${SIZES[@]}" >"$D/heads.tsv"
	client cases "$D/heads.json" --idle 2 --timeout 20
	while IFS=$'\t' read -r name path size where; do
		expect "${size}-byte head, spoofs $where" "$path" "" "" "$size" "$name"
	done <"$D/heads.tsv"
	judge "$D/c.json"
	# Both outcomes occur: the limit exists and is not below a plain head.
	python3 - "$D/c.json" <<'EOF' >"$D/split"
import json, sys
d = json.load(open(sys.argv[1]))
sts = [v["statuses"][0] for v in d.values() if len(v["statuses"]) == 1]
print(sts.count(200), len(sts) - sts.count(200))
EOF
	read -r acc ref <"$D/split"
	echo "# $CASE: sized heads: ${acc:-?} accepted, ${ref:-?} refused"
	if [ "${acc:-0}" -ge 1 ] && [ "${ref:-0}" -ge 1 ]; then
		ok "$CASE: the limit exists ($acc accepted, $ref refused)"
	else
		fail "$CASE: the limit exists" "${acc:-?} accepted, ${ref:-?} refused"
	fi
}

# limit: the largest head the proxy takes (by bisection, spoofs first):
# the agent still concludes right on it, and one byte more is refused.
limit() {
	local lo=1000 hi=20000 mid i st
	for ((i = 0; i < 20 && hi - lo > 1; i++)); do
		mid=$(((lo + hi) / 2))
		WHERE=first python3 "$T/heads.py" "$D/l.json" "/$WAY/limit" "$EVIL" "$EVIL_IP" "$mid" >/dev/null
		client cases "$D/l.json" --idle 2 --timeout 10
		st=$(j "$D/c.json" 'list(d.values())[0]["statuses"]')
		# each probe is judged like any other head
		expect "limit probe: ${mid}-byte head, spoofs first" "/$WAY/limit/size/$mid/first" "" "" "$mid" "$mid-first"
		judge "$D/c.json"
		if [ "$st" = "[200]" ]; then lo=$mid; else hi=$mid; fi
	done
	if [ $((hi - lo)) -ne 1 ]; then
		fail "$CASE: limit found" "bisection ended at $lo..$hi"
		return
	fi
	ok "$CASE: limit found ($lo-byte head accepted)"
	echo "# $CASE: the largest head taken is $lo bytes"
	python3 "$T/heads.py" "$D/heads.json" "/$WAY/edge" "$EVIL" "$EVIL_IP" "$lo" "$hi" >"$D/heads.tsv"
	client cases "$D/heads.json" --idle 2 --timeout 20
	while IFS=$'\t' read -r name path size where; do
		expect "limit: ${size}-byte head, spoofs $where" "$path" "" "" "$size" "$name"
	done <"$D/heads.tsv"
	judge "$D/c.json"
	st=$(j "$D/c.json" "d['$hi-first']['statuses']")
	if [ "$st" != "[200]" ]; then
		ok "$CASE: one byte more is refused ($st)"
	else
		fail "$CASE: one byte more is refused" "200 for a $hi-byte head"
	fi
}

for WAY in "${WAYS[@]}"; do
	[ -n "$WAY" ] || continue
	for fl in network router ovn; do
		if serve "$WAY" "$fl"; then
			BEFORE=$(nrec)
			: >"$D/expect"
			get "plain request" latest/meta-data/
			judge
			if [ "$(j "$D/body.$N" 'd.get("path")')" = "/$WAY/latest/meta-data/" ]; then
				ok "$CASE: plain request: the agent got the path"
			else
				fail "$CASE: plain request: the agent got the path" "$(j "$D/body.$N" 'd.get("path")')"
			fi
			spoofs
			judge
			sizes
			[ "$fl" = network ] && limit
			proxy_alive "$CASE: still serving" "$D/proxy.err"
		fi
		unserve
	done
done

# Nothing the agent concluded, ever, names a spoofed identity or address.
if grep -qF -e "$EVIL" -e "$EVIL2" -e "$EVIL_IP" "$A/neutron.jsonl" "$A/ovn.jsonl" 2>/dev/null; then
	fail "no spoofed conclusion in any record" "$(grep -hF -e "$EVIL" -e "$EVIL2" -e "$EVIL_IP" "$A"/*.jsonl | head -c 300)"
else
	ok "no spoofed conclusion in any record"
fi
# The agents served it all and are still up.
for p in "$NEUTRON_PID" "$OVN_PID"; do
	alive "$p" && ok "agent $p still running" || fail "agent $p still running" "gone"
done
finish
