#!/bin/bash
# A VM in one network namespace reaching the proxy in another across a veth
# link, as on a network node: the proxy serves 169.254.169.254:80 inside
# the namespace of its network or router (qdhcp-/qrouter-/ovnmeta-<id>),
# the VM's request arrives over the link, and the agent listens on a unix
# socket outside (a socket bound to a path is reachable from every network
# namespace).
#
# Two namespaces made here, nmp-px-PID (the proxy's) and nmp-vm-PID (the
# VM's), joined by a veth pair; real curl (and tests/support/raw_client.py)
# runs in the VM's; tests/support/fake_agent.py records what reaches the
# agent. Cases:
#   1. `run --netns ... --daemonize`, haproxy and built-in engines;
#   2. `ip netns exec NS haproxy -D -f CONF` as neutron starts it today,
#      CONF written by neutron's own code, directly and through a
#      `haproxy` symlink found in PATH as neutron's root helper finds it;
#   3. a router proxy, and the IPv6 metadata address fe80::a9fe:a9fe on
#      the proxy's side of the link.
# Only traffic between the two namespaces; only processes this script
# started are stopped, by pid; only the namespaces it made are deleted
# (the veth goes with them).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HAPROXY=/usr/sbin/haproxy
RENDER=$SRC/tests/support/neutron_render.py
PY=/usr/bin/python3 # the system's, where python3-neutron is
EVIL=deadbeef-dead-4bad-8bad-deadbeefdead # what a VM claims to be
EVIL_IP=10.9.8.7
MD=169.254.169.254
VM_IP=169.254.0.10
MD6=fe80::a9fe:a9fe # neutron's IPv6 metadata address
VM_IP6=fe80::10

for need in "$HAPROXY" "$AGENT" "$CLIENT"; do
	if [ ! -f "$need" ]; then
		fail "prerequisites" "$need is missing"
		finish
	fi
done
need_commands curl python3 ip

proxy_account

# --- the two namespaces and the link ----------------------------------------
NSP=nmp-px-$$
NSV=nmp-vm-$$
VP=nmpp$$ # the proxy's end of the link (interface names: 15 bytes at most)
VV=nmpv$$ # the VM's end
MADE_NS=()

# net_cleanup: every process the cases started (by pid), then the
# namespaces this script made; the veth lives only inside them.
net_cleanup() {
	local n
	case_end
	for n in "${MADE_NS[@]}"; do
		ip netns delete "$n"
	done
	MADE_NS=()
}
at_exit net_cleanup

if [ "$IS_ROOT" != 1 ]; then
	skip "netns" "the kernel lets only root (CAP_SYS_ADMIN) create a network namespace"
	finish
fi
for n in "$NSP" "$NSV"; do
	if ! ip netns add "$n" 2>"$T/ns.err"; then
		skip "netns" "the kernel refuses a network namespace: $(escape_file "$T/ns.err" 300)"
		finish
	fi
	MADE_NS+=("$n")
done
# Created with each end already in its namespace: the root namespace never
# holds it, so nothing there changes.
if ! ip link add "$VP" netns "$NSP" type veth peer name "$VV" netns "$NSV" 2>"$T/ns.err"; then
	skip "netns" "the kernel refuses a veth pair: $(escape_file "$T/ns.err" 300)"
	finish
fi

# IPv6 as neutron has it: fe80::a9fe:a9fe/64 on the proxy's side. No
# automatic link-local address (so the VM's source address, and thus its
# X-Forwarded-For, is the one given here), and nodad so the addresses are
# usable at once rather than after duplicate address detection.
HAVE_V6=1
V6_WHY=
if ! { ip -n "$NSP" link set "$VP" addrgenmode none && ip -n "$NSV" link set "$VV" addrgenmode none &&
	ip -n "$NSP" addr add "$MD6/64" dev "$VP" nodad &&
	ip -n "$NSV" addr add "$VM_IP6/64" dev "$VV" nodad; } 2>"$T/ns.err"; then
	HAVE_V6=0
	V6_WHY="the kernel refuses the IPv6 link-local addresses: $(escape_file "$T/ns.err" 300)"
fi
if ! { ip -n "$NSP" addr add "$MD/16" dev "$VP" &&
	ip -n "$NSV" addr add "$VM_IP/16" dev "$VV" &&
	ip -n "$NSP" link set lo up && ip -n "$NSV" link set lo up &&
	ip -n "$NSP" link set "$VP" up && ip -n "$NSV" link set "$VV" up; } 2>"$T/ns.err"; then
	fail "link" "cannot set up the veth link: $(escape_file "$T/ns.err" 300)"
	finish
fi

# carrier NS IF: the link is up at both ends as IF sees it.
carrier() {
	ip -n "$1" link show dev "$2" 2>/dev/null | grep -q 'LOWER_UP'
}
if wait_until 50 carrier "$NSP" "$VP" && wait_until 50 carrier "$NSV" "$VV"; then
	ok "link: veth up between $NSP and $NSV"
else
	fail "link" "no carrier on the veth within 5 s: $(ip -n "$NSV" link show dev "$VV" 2>&1 | tr '\n' ' ')"
	finish
fi
NSP_INO=$(ip netns exec "$NSP" readlink /proc/self/ns/net)

# --- helpers ----------------------------------------------------------------

# vm_http URL CURLARGS...: one request from the VM's namespace, no retry;
# status in CODE (000: no answer), body in $D/body.
vm_http() {
	local url=$1
	shift
	CODE=$(ip netns exec "$NSV" curl -sS -g --noproxy '*' --max-time 10 -o "$D/body" \
		-w '%{http_code}' "$@" "$url" 2>"$D/curl.err")
	CURL_RC=$?
	[ -n "$CODE" ] || CODE=000
}

# ns_listens PORT: something listens on PORT inside the proxy's namespace
# (/proc/net is the reader's namespace).
ns_listens() {
	local hex
	hex=$(printf '%04X' "$1")
	ip netns exec "$NSP" cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		grep -qE "^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:0000 0A "
}

# What the agent saw, read as WSGI reads header names (upper case, '-' as
# '_'), so a spoofed header under any spelling counts against us.
cat >"$T/seen.py" <<'EOF'
import json
import sys

rec, before, want, wid, xff, path, evil, evil_ip = sys.argv[1:9]
body = sys.argv[9] if len(sys.argv) > 9 else None
try:
    with open(rec) as f:
        recs = [json.loads(line) for line in f if line.strip()]
except FileNotFoundError:
    recs = []
if len(recs) != int(before) + 1:
    print("agent records %s -> %d, want one more" % (before, len(recs)))
    sys.exit(1)
r = recs[-1]
norm = lambda n: n.upper().replace("-", "_")
ident = [[n, v] for n, v in r["headers"] if norm(n).startswith(("X_NEUTRON_", "X_OVN_"))]
fwd = [v for n, v in r["headers"] if norm(n) == "X_FORWARDED_FOR"]
bad = []
if [[norm(n), v] for n, v in ident] != [[norm(want), wid]]:
    bad.append("identity headers %s, want exactly [%s: %s]" % (json.dumps(ident), want, wid))
if fwd != [xff]:
    bad.append("X-Forwarded-For %s, want exactly [%s]" % (json.dumps(fwd), xff))
if evil in json.dumps(r) or evil_ip in json.dumps(r):
    bad.append("a client-sent value reached the agent")
if r["path"] != path:
    bad.append("path %r, want %r" % (r["path"], path))
if body is not None:
    try:
        with open(body) as f:
            got = json.load(f)
        if got.get("path") != path or got.get("headers") != r["headers"]:
            bad.append("the body is not the agent's answer to this request")
    except (OSError, ValueError):
        bad.append("the body is not the agent's JSON answer")
if bad:
    print("; ".join(bad) + "; headers: " + json.dumps(r["headers"]))
    sys.exit(1)
EOF

# seen NAME BEFORE HEADER ID XFF PATH [BODY]: exactly one request reached
# the agent since it held BEFORE records, for PATH, with exactly one
# identity header (HEADER: ID), exactly one X-Forwarded-For (XFF) and
# nothing the client claimed; BODY, when given, is the agent's answer.
seen() {
	local name=$1
	shift
	if python3 "$T/seen.py" "$REC" "$1" "$2" "$3" "$4" "$5" "$EVIL" "$EVIL_IP" "${@:6}" >"$D/seen" 2>&1; then
		ok "$name"
	else
		fail "$name" "$(head -c 600 "$D/seen")"
	fi
}

# request NAME URL HEADER ID XFF PATH CURLARGS...: from the VM, 200 with
# the agent's answer, which saw exactly our identity.
request() {
	local name=$1 url=$2 header=$3 id=$4 xff=$5 path=$6 before
	shift 6
	before=$(nrec)
	vm_http "$url" "$@"
	if [ "$CODE" = 200 ]; then
		ok "$name: 200"
		seen "$name: the agent saw exactly our identity" "$before" "$header" "$id" "$xff" "$path" "$D/body"
	else
		fail "$name: 200" "HTTP $CODE (curl exit $CURL_RC): $(escape_file "$D/curl.err" 200)"
	fi
}

# Every spelling of a claimed identity and address, as curl sends them.
SPOOF=(-H "X-Neutron-Network-ID: $EVIL" -H "X_Neutron_Network_ID: $EVIL"
	-H "x-neutron-router_id: $EVIL" -H "X-OVN-Network-ID: $EVIL"
	-H "X-Forwarded-For: $EVIL_IP" -H "x_forwarded_for: $EVIL_IP, $VM_IP")

# raw_spoof NAME HEADER ID: the same claims in raw bytes from the VM
# (repeated headers, odd spellings, a second X-Forwarded-For naming the
# VM itself), through raw_client.py: 200, our identity only.
raw_spoof() {
	local name=$1 before
	printf '%s\r\n' "GET /raw/spoof HTTP/1.1" "Host: $MD" \
		"X-Forwarded-For: $EVIL_IP" "X-Neutron-Network-ID: $EVIL" \
		"x-neutron-network-id: $EVIL" "X_NEUTRON_ROUTER_ID: $EVIL" \
		"x-ovn_network-id: $EVIL" "X-Forwarded-For: $VM_IP" \
		"X-FORWARDED_FOR: $EVIL_IP" "Connection: close" "" >"$D/raw.req"
	before=$(nrec)
	ip netns exec "$NSV" timeout 20 python3 "$CLIENT" send "$MD" 80 "$D/raw.req" \
		>"$D/c.json" 2>"$D/c.err"
	if grep -q '"status": 200[,}]' "$D/c.json"; then
		ok "$name: raw spoof: 200"
		seen "$name: raw spoof: the agent saw exactly our identity" "$before" "$2" "$3" "$VM_IP" /raw/spoof
	else
		fail "$name: raw spoof: 200" "client: $(head -c 300 "$D/c.json") $(escape_file "$D/c.err" 200)"
	fi
}

# in_proxy_ns NAME PID: PID serves inside the proxy's namespace, not ours.
in_proxy_ns() {
	local got
	got=$(readlink "/proc/$2/ns/net" 2>/dev/null)
	if [ -n "$got" ] && [ "$got" = "$NSP_INO" ] && [ "$got" != "$(readlink /proc/$$/ns/net)" ]; then
		ok "$1"
	else
		fail "$1" "pid $2 in '$got', the proxy's namespace is $NSP_INO"
	fi
}

# runs_as NAME PID USER: PID's real and effective uid are USER's.
runs_as() {
	local want got
	want=$(id -u "$3")
	got=$(awk '/^Uid:/ {print $2, $3}' "/proc/$2/status" 2>/dev/null)
	check "$1" "$got" "$want $want"
}

# is_exe NAME PID FILE: PID runs FILE (the engine we asked for).
is_exe() {
	check "$1" "$(readlink "/proc/$2/exe" 2>/dev/null)" "$(readlink -f "$3")"
}

# agent_for_proxy: the agent, with the case's directory passable for the
# proxy's user and the socket writable by it (neutron's
# metadata_proxy_socket_mode), since the proxy drops to that user.
agent_for_proxy() {
	chmod 0711 "$D"
	agent_start normal || return 1
	chmod 0666 "$SOCK"
}

# stop_proxy: `stop` (PROXY_STOP) exits 0 and the proxy has ended. A
# daemon is not our child: once it ends it waits as a zombie for whoever
# adopted it, which alive counts as ended.
stop_proxy() {
	local rc pid=$PROXY_PID
	timeout 20 "${PROXY_STOP[@]}" </dev/null >"$D/stop.out" 2>"$D/stop.err"
	rc=$?
	if [ "$rc" = 0 ] && wait_until "$WAIT_MAX" not alive "$pid"; then
		ok "$CASE: stop"
		PROXY_PID=
	else
		fail "$CASE: stop" "stop exit $rc, pid $pid $(alive "$pid" && echo still alive || echo gone): $(escape_file "$D/stop.err" 300)"
	fi
}

# --- 1. run --netns --daemonize, each engine ---------------------------------
# The start command returns once the proxy is up: neutron's process monitor
# and a VM booting right after it do not retry, so the first request after
# the command returned must be answered.
run_case() { # ENGINE
	local engine=$1 rc pid exe
	case_begin "run $engine" || return
	if ! agent_for_proxy; then
		case_end
		return
	fi
	mkdir -m 0755 "$D/state" # as neutron's state path always exists
	RA=(--network-id "$ID" --state-path "$D/state" --pid-file "$D/p.pid")
	PROXY_STOP=("$BIN" stop "${RA[@]}")
	timeout 20 "$BIN" run "${RA[@]}" --netns "$NSP" --engine "$engine" \
		--bind-address "$MD" --metadata-port 80 --metadata-proxy-socket "$SOCK" \
		--metadata-proxy-user "$PU" --metadata-proxy-group "$PG" --daemonize \
		</dev/null >"$D/run.out" 2>"$D/run.err"
	rc=$?
	# First, before anything else: the request right after the return.
	request "$CASE: at once after the start returned" "http://$MD/latest/meta-data/" \
		X-Neutron-Network-ID "$ID" "$VM_IP" /latest/meta-data/
	if [ "$rc" = 0 ]; then
		ok "$CASE: run --daemonize exits 0"
	else
		fail "$CASE: run --daemonize exits 0" "exit $rc: $(escape_file "$D/run.err" 400)"
	fi
	pid=$(cat "$D/p.pid" 2>/dev/null)
	if [ -z "$pid" ] || ! alive "$pid"; then
		fail "$CASE: the pidfile names a live proxy" "pidfile '$pid': $(escape_file "$D/run.err" 400)"
		case_end
		return
	fi
	ok "$CASE: the pidfile names a live proxy"
	PROXY_PID=$pid
	# Later checks do not depend on how fast it came up.
	wait_until -p "$pid" "$WAIT_MAX" ns_listens 80 ||
		fail "$CASE: listens on port 80 in $NSP" "nothing within 5 s"
	exe=$BIN
	[ "$engine" = haproxy ] && exe=$HAPROXY
	is_exe "$CASE: the serving process is $engine" "$pid" "$exe"
	in_proxy_ns "$CASE: serves inside $NSP" "$pid"
	runs_as "$CASE: runs as $PU" "$pid" "$PU"

	request "$CASE: VM request" "http://$MD/latest/meta-data/" \
		X-Neutron-Network-ID "$ID" "$VM_IP" /latest/meta-data/
	request "$CASE: spoofed VM request" "http://$MD/openstack/latest/meta_data.json" \
		X-Neutron-Network-ID "$ID" "$VM_IP" /openstack/latest/meta_data.json "${SPOOF[@]}"
	raw_spoof "$CASE" X-Neutron-Network-ID "$ID"

	runb status "${RA[@]}"
	if [ "$RC" = 0 ] && grep -qx "running: pid $pid" "$T/out"; then
		ok "$CASE: status says running"
	else
		fail "$CASE: status says running" "exit $RC, stdout '$(escape_file "$T/out" 200)'$(stderr_note)"
	fi
	stop_proxy
	runb status "${RA[@]}"
	expect_code "$CASE: status after stop: not running" 3 "$RC"
	if ns_listens 80; then
		fail "$CASE: nothing listens after stop" "port 80 still listens in $NSP"
	else
		ok "$CASE: nothing listens after stop"
	fi
	case_end
}

run_case haproxy
run_case builtin

# --- 2. `haproxy -f CONF` as neutron's agents start it ------------------------
# neutron's ProcessManager: the root helper runs `ip netns exec NS haproxy
# -f CONF` (here with -D too), then takes the pidfile's pid as the proxy
# if it is alive with the uuid in its command line; SIGTERM stops it.
mkdir -m 0755 "$T/bin"
ln -s "$BIN" "$T/bin/haproxy"

# front_start HOW CONF PIDFILE: start as neutron does and check what its
# process monitor relies on; HOW is "direct" ($BIN haproxy ...) or "path"
# (the name haproxy, found through PATH by `ip netns exec`).
front_start() {
	local how=$1 conf=$2 pf=$3 name="$CASE, $1" rc pid
	rm -f "$pf" # as neutron's ProcessManager does before a start
	if [ "$how" = direct ]; then
		timeout 20 ip netns exec "$NSP" "$BIN" haproxy -D -f "$conf" \
			</dev/null >"$D/run.out" 2>"$D/run.err"
	else
		# The root helper's PATH with our directory first; the real
		# haproxy is further down the same PATH.
		PATH="$T/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
			timeout 20 ip netns exec "$NSP" haproxy -D -f "$conf" \
			</dev/null >"$D/run.out" 2>"$D/run.err"
	fi
	rc=$?
	request "$name: at once after the start returned" "http://$MD/latest/meta-data/" \
		X-Neutron-Network-ID "$ID" "$VM_IP" /latest/meta-data/
	if [ "$rc" = 0 ]; then
		ok "$name: returns 0 after daemonizing"
	else
		fail "$name: returns 0 after daemonizing" "exit $rc: $(escape_file "$D/run.err" 400)"
	fi
	pid=$(cat "$pf" 2>/dev/null)
	if [ -z "$pid" ] || ! alive "$pid"; then
		fail "$name: the pidfile holds the live pid" "pidfile '$pid': $(escape_file "$D/run.err" 400)"
		return
	fi
	ok "$name: the pidfile holds the live pid"
	PROXY_PID=$pid
	if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$ID"; then
		ok "$name: the uuid is in /proc/PID/cmdline"
	else
		fail "$name: the uuid is in /proc/PID/cmdline" "'$(tr '\0' ' ' <"/proc/$pid/cmdline")'"
	fi
	wait_until -p "$pid" "$WAIT_MAX" ns_listens 80 ||
		fail "$name: listens on port 80 in $NSP" "nothing within 5 s"
	is_exe "$name: the front serves, not haproxy" "$pid" "$BIN"
	in_proxy_ns "$name: serves inside $NSP" "$pid"
	runs_as "$name: runs as the config's user" "$pid" "$PU"
	request "$name: spoofed VM request" "http://$MD/latest/meta-data/instance-id" \
		X-Neutron-Network-ID "$ID" "$VM_IP" /latest/meta-data/instance-id "${SPOOF[@]}"
	kill -TERM "$pid" 2>/dev/null
	if wait_until "$WAIT_MAX" not alive "$pid"; then
		ok "$name: SIGTERM stops it"
		PROXY_PID=
	else
		fail "$name: SIGTERM stops it" "pid $pid still alive after 5 s"
		proxy_kill
	fi
}

# One config, written by neutron's HaproxyConfigurator (importing neutron
# is slow: render once), served both ways in turn.
front_case() {
	local conf pf
	case_begin "haproxy -f" || return
	if ! agent_for_proxy; then
		case_end
		return
	fi
	pf=$D/nstate/external/pids/$ID.pid
	mkdir -p "$D/nstate/external/pids"
	conf=$("$PY" "$RENDER" --driver neutron --state-path "$D/nstate" --network-id "$ID" \
		--bind 0.0.0.0 --port 80 --socket "$SOCK" --user "$PU" --group "$PG" \
		--pidfile "$pf" 2>"$D/render.err")
	if grep -q "No module named 'neutron" "$D/render.err"; then
		skip "$CASE" "python3-neutron is not importable by $PY: no config rendered by neutron's code"
		case_end
		return
	fi
	if [ -z "$conf" ] || [ ! -f "$conf" ]; then
		fail "$CASE: neutron renders the config" "$(escape_file "$D/render.err" 400)"
		case_end
		return
	fi
	if grep -q '^ *bind 0.0.0.0:80$' "$conf" && grep -qF "server metadata $SOCK" "$conf" &&
		grep -qE "^ *pidfile +$pf\$" "$conf"; then
		ok "$CASE: neutron's config binds 0.0.0.0:80, names the agent and the pidfile"
	else
		fail "$CASE: neutron's config" "$(escape_file "$conf" 900)"
	fi
	front_start direct "$conf" "$pf"
	front_start path "$conf" "$pf"
	case_end
}

front_case

# --- 3. a router, over IPv4 and neutron's IPv6 metadata address --------------
router_case() { # ENGINE
	local engine=$1 rc pid v6=()
	case_begin "router $engine" || return
	if ! agent_for_proxy; then
		case_end
		return
	fi
	[ "$HAVE_V6" = 1 ] && v6=(--bind-address-v6 "$MD6" --bind-interface "$VP")
	mkdir -m 0755 "$D/state"
	RA=(--router-id "$ID2" --state-path "$D/state" --pid-file "$D/p.pid")
	PROXY_STOP=("$BIN" stop "${RA[@]}")
	timeout 20 "$BIN" run "${RA[@]}" --netns "$NSP" --engine "$engine" \
		--bind-address "$MD" "${v6[@]}" --metadata-port 80 --metadata-proxy-socket "$SOCK" \
		--metadata-proxy-user "$PU" --metadata-proxy-group "$PG" --daemonize \
		</dev/null >"$D/run.out" 2>"$D/run.err"
	rc=$?
	pid=$(cat "$D/p.pid" 2>/dev/null)
	if [ "$rc" != 0 ] || [ -z "$pid" ] || ! alive "$pid"; then
		fail "$CASE: starts" "exit $rc, pidfile '$pid': $(escape_file "$D/run.err" 400)"
		case_end
		return
	fi
	ok "$CASE: starts"
	PROXY_PID=$pid
	wait_until -p "$pid" "$WAIT_MAX" ns_listens 80 ||
		fail "$CASE: listens on port 80 in $NSP" "nothing within 5 s"
	in_proxy_ns "$CASE: serves inside $NSP" "$pid"
	request "$CASE: spoofed VM request" "http://$MD/latest/meta-data/" \
		X-Neutron-Router-ID "$ID2" "$VM_IP" /latest/meta-data/ "${SPOOF[@]}"
	if [ "$HAVE_V6" = 1 ]; then
		request "$CASE: IPv6 VM request" "http://[$MD6%25$VV]/latest/meta-data/" \
			X-Neutron-Router-ID "$ID2" "$VM_IP6" /latest/meta-data/ "${SPOOF[@]}"
	else
		skip "$CASE: IPv6" "$V6_WHY"
	fi
	stop_proxy
	case_end
}

router_case builtin
router_case haproxy

finish
