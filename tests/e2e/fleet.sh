#!/bin/bash
# One daemon, many networks: `fleet serve` as an unprivileged user, and
# `fleet add` binding each network's listener inside its own namespace and
# handing it over. Every namespace here is made by this script
# (nmf<PID>-N, and a veth pair for IPv6), every process it starts is
# stopped by pid, and only its own namespaces are deleted. Cases:
#   1. NMP_FLEET_NETWORKS (200) networks added, in three flavours (neutron
#      network, neutron router, OVN network), plus one with IPv6 on a veth;
#   2. a client in each namespace, spoofing the identity headers, reaches
#      the agent with its own network's identity, once, never another's;
#   3. list and show tell what is served and counted;
#   4. networks deleted and added again while clients load others: none of
#      the load's requests fails;
#   5. a namespace deleted: its network goes, and its listener with it;
#   6. peers: one outside root and the control group is refused (by the
#      daemon's SO_PEERCRED check, the socket's mode opened for the test),
#      one in the control group is let in;
#   7. bad control messages each get one error, and change nothing;
#   8. the slow-body flood in one network while another keeps answering
#      (its own connection limit: --max-conns-per-network);
#   9. SIGTERM: the daemon ends cleanly;
#  10. a restart under a service manager (a stand-in) loses nothing;
#  11. without one, the networks are logged as lost;
#  12. busy networks never open more than --max-agent-conns to the agent:
#      the others wait their turn and are answered; at --maxconn the daemon
#      turns off only the listeners that have a connection waiting, not
#      every listener of every network.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHECK=$SRC/tests/support/fleet_check.py
FLOOD=$SRC/tests/support/slow_body_flood.py
N=${NMP_FLEET_NETWORKS:-200} # at least 6
EVIL=deadbeef-dead-4bad-8bad-deadbeefdead
MD6=fe80::a9fe:a9fe

if [ "$IS_ROOT" != 1 ]; then
	skip "fleet" "fleet add enters network namespaces: only root may"
	finish
fi
need_commands curl python3 ip setpriv

proxy_account
PGID=$(getent group "$PG" | cut -d: -f3)

MADE_NS=()
FLEET_PID=
LOAD_PIDS=()
fleet_cleanup() {
	local n p
	for p in "${LOAD_PIDS[@]}"; do
		alive "$p" && kill -TERM "$p" 2>/dev/null
		reap "$p"
	done
	if [ -n "$FLEET_PID" ]; then
		alive "$FLEET_PID" && kill -TERM "$FLEET_PID" 2>/dev/null
		reap "$FLEET_PID"
	fi
	case_end
	for n in "${MADE_NS[@]}"; do
		ip netns delete "$n" 2>/dev/null
	done
	MADE_NS=()
}
at_exit fleet_cleanup

case_begin "fleet" || finish
chmod 0711 "$D"
CTL=$D/c.sock
LOG=$D/fleet.log
agent_start normal || finish
chmod 0666 "$SOCK"

# uuid N: the id of network N.
uuid() {
	printf '%08x-0000-4000-8000-%012x' "$1" "$1"
}
ns() {
	echo "nmf$$-$1"
}
fleet() {
	"$BIN" fleet "$@" --control-socket "$CTL"
}

# --- the namespaces ------------------------------------------------------------
for ((i = 1; i <= N; i++)); do
	if ! ip netns add "$(ns "$i")" 2>"$T/ns.err"; then
		if [ "$i" -eq 1 ]; then
			skip "fleet" "the kernel refuses a network namespace: $(escape_file "$T/ns.err" 300)"
			finish
		fi
		fail "namespaces" "namespace $i of $N: $(escape_file "$T/ns.err" 300)"
		finish
	fi
	MADE_NS+=("$(ns "$i")")
	ip -n "$(ns "$i")" link set lo up
done
# IPv6 as neutron has it: fe80::a9fe:a9fe on the network's side of a veth.
NSP=nmf$$-p6
NSV=nmf$$-v6
VP=nmfp$$
VV=nmfv$$
HAVE_V6=0
if ip netns add "$NSP" 2>/dev/null && MADE_NS+=("$NSP") &&
	ip netns add "$NSV" 2>/dev/null && MADE_NS+=("$NSV") &&
	ip link add "$VP" netns "$NSP" type veth peer name "$VV" netns "$NSV" 2>"$T/ns.err" &&
	ip -n "$NSP" link set "$VP" addrgenmode none && ip -n "$NSV" link set "$VV" addrgenmode none &&
	ip -n "$NSP" addr add "$MD6/64" dev "$VP" nodad &&
	ip -n "$NSV" addr add fe80::10/64 dev "$VV" nodad &&
	ip -n "$NSP" link set "$VP" up && ip -n "$NSV" link set "$VV" up &&
	ip -n "$NSP" link set lo up; then
	HAVE_V6=1
fi

# --- the daemon ------------------------------------------------------------------
"$BIN" fleet serve --control-socket "$CTL" --log-file "$LOG" \
	--metadata-proxy-user "$PU" --metadata-proxy-group "$PG" \
	--maxconn 64 --max-conns-per-network 32 \
	</dev/null >"$D/serve.out" 2>"$D/serve.err" &
FLEET_PID=$!
if wait_until -p "$FLEET_PID" "$WAIT_MAX" test -S "$CTL"; then
	ok "serve: control socket up"
else
	fail "serve" "no control socket: $(escape_file "$D/serve.err" 400)"
	finish
fi
mode=$(stat -c '%a %U %G' "$CTL")
assert "serve: control socket 0660 root:$PG" "it is $mode" [ "$mode" = "660 root $PG" ]
user=$(ps -o user= -p "$FLEET_PID" | tr -d ' ')
assert "serve: runs as $PU" "runs as $user" [ "$user" = "$PU" ]
caps=$(awk '/^CapEff/ {print $2}' "/proc/$FLEET_PID/status")
assert "serve: no capability" "CapEff $caps" [ "$caps" = 0000000000000000 ]
"$BIN" fleet serve --control-socket "$CTL" </dev/null >/dev/null 2>"$D/second.err"
expect_code "serve: a second daemon on the same socket is refused (75)" 75 $?
assert "serve: ... with one line, the first one's socket untouched" "$(escape_file "$D/second.err" 200)" \
	[ "$(wc -l <"$D/second.err")" = 1 -a -S "$CTL" ]
"$BIN" fleet serve --control-socket "$D/other.sock" --control-group nosuchgroup-$$ \
	</dev/null >/dev/null 2>"$D/badgroup.err"
expect_code "serve: an unknown control group is refused (67)" 67 $?
assert "serve: ... and leaves no socket" "$D/other.sock exists" [ ! -e "$D/other.sock" ]

# --- 1. N networks -------------------------------------------------------------------
: >"$D/expected"
t0=$(ms)
bad=0
for ((i = 1; i <= N; i++)); do
	case $((i % 3)) in
	0) args=(--flavor ovn --network-id "$(uuid "$i")") hdr=X-OVN-Network-ID ;;
	1) args=(--network-id "$(uuid "$i")") hdr=X-Neutron-Network-ID ;;
	2) args=(--router-id "$(uuid "$i")") hdr=X-Neutron-Router-ID ;;
	esac
	if ! fleet add --netns "$(ns "$i")" "${args[@]}" --bind-address 127.0.0.1 \
		--metadata-port 80 --metadata-proxy-socket "$SOCK" 2>>"$D/add.err"; then
		bad=$((bad + 1))
	fi
	echo "/n$i $hdr $(uuid "$i") 127.0.0.1" >>"$D/expected"
done
t1=$(ms)
echo "  $N fleet add: $((t1 - t0)) ms"
assert "add: $N networks, one fleet add each" "$bad failed: $(escape_file "$D/add.err" 400)" [ "$bad" -eq 0 ]
fd_count() {
	find "/proc/$FLEET_PID/fd" -mindepth 1 -maxdepth 1 | wc -l
}
echo "  daemon: $(awk '/^VmRSS/ {print $2 " kB RSS"}' "/proc/$FLEET_PID/status"), $(fd_count) descriptors"

V6ID=$(uuid 999999)
if [ "$HAVE_V6" = 1 ]; then
	fleet add --netns "$NSP" --network-id "$V6ID" --bind-address 127.0.0.1 \
		--bind-address-v6 "$MD6" --bind-interface "$VP" --metadata-port 80 \
		--metadata-proxy-socket "$SOCK" 2>"$D/add6.err"
	expect_code "add: a network with IPv6 on its interface" 0 $?
fi

expect_code "add: the same id twice is refused (73)" 73 \
	"$(fleet add --netns "$(ns 1)" --network-id "$(uuid 1)" --bind-address 127.0.0.2 \
		--metadata-port 80 --metadata-proxy-socket "$SOCK" 2>"$D/dup.err"; echo $?)"
ip netns exec "$(ns 1)" curl -s --max-time 3 -o /dev/null http://127.0.0.2/ 2>/dev/null
assert "add: a refused add leaves no listener behind" "127.0.0.2 answers" [ $? -ne 0 ]

# --- 2. each namespace gets its own identity --------------------------------
bad=0
for ((i = 1; i <= N; i++)); do
	code=$(ip netns exec "$(ns "$i")" curl -sS --noproxy '*' --max-time 10 -o /dev/null \
		-w '%{http_code}' -H "X-Neutron-Network-ID: $EVIL" -H "X-OVN-Network-ID: $EVIL" \
		-H "X-Neutron-Router-ID: $EVIL" -H "X-Forwarded-For: 10.9.8.7" \
		"http://127.0.0.1/n$i" 2>>"$D/curl.err")
	[ "$code" = 200 ] || bad=$((bad + 1))
done
assert "identity: $N clients answered 200" "$bad did not: $(escape_file "$D/curl.err" 300)" [ "$bad" -eq 0 ]
if [ "$HAVE_V6" = 1 ]; then
	code=$(ip netns exec "$NSV" curl -sS -g --noproxy '*' --max-time 10 -o /dev/null \
		-w '%{http_code}' "http://[$MD6%$VV]/v6" 2>>"$D/curl.err")
	expect_code "identity: IPv6 across the veth" 200 "$code"
	echo "/v6 X-Neutron-Network-ID $V6ID fe80::10" >>"$D/expected"
else
	skip "identity: IPv6" "the kernel refuses the veth or its IPv6 addresses: $(escape_file "$T/ns.err" 200)"
fi
if python3 "$CHECK" identity "$REC" "$D/expected" >"$D/check.out" 2>&1 &&
	grep -q "^checked" "$D/check.out"; then
	ok "identity: each request with its network's headers, once ($(tail -1 "$D/check.out"))"
else
	fail "identity" "$(head -5 "$D/check.out" | tr '\n' ' ')"
fi

# --- 3. list and show ----------------------------------------------------------
fleet list >"$D/list" 2>"$D/list.err"
expect_code "list: exit 0" 0 $?
total=$((N + HAVE_V6))
lines=$(grep -vc '^#' "$D/list")
ids=$(grep -v '^#' "$D/list" | cut -d' ' -f1 | sort -u | wc -l)
assert "list: $total networks, each once" "$lines lines, $ids ids" [ "$lines/$ids" = "$total/$total" ]
line=$(grep "^$(uuid 2) " "$D/list")
assert "list: flavour, kind, namespace, bind, requests" "line: $line" \
	[ "$(echo "$line" | cut -d' ' -f2-6)" = "neutron router $(ns 2) 127.0.0.1:80 1" ]
fleet show "$(uuid 3)" >"$D/show" 2>&1
assert "show: an OVN network, its request counted" "$(tr '\n' ' ' <"$D/show")" \
	[ "$(grep -cx -e 'flavor: ovn' -e 'requests: 1' "$D/show")" = 2 ]
expect_code "show: an unknown id is 69" 69 "$(fleet show "$EVIL" 2>/dev/null; echo $?)"
head -c 70000 /dev/zero >"$D/big"
code=$(ip netns exec "$(ns 5)" curl -s --max-time 10 -o /dev/null -w '%{http_code}' \
	--data-binary @"$D/big" http://127.0.0.1/big)
expect_code "list: a body over the cap is refused (413)" 413 "$code"
line=$(fleet list | grep "^$(uuid 5) ")
assert "list: the last refusal is one word, eight fields" "line: $line" \
	[ "$(echo "$line" | awk '{print NF " " $7}')" = "8 body-too-large" ]
# A per-source cap in the fleet: one more network in namespace 6, on port
# 81, that lets an address hold one connection; the second is closed.
CAPID=$(uuid 888888)
fleet add --netns "$(ns 6)" --network-id "$CAPID" --bind-address 127.0.0.1 --metadata-port 81 \
	--metadata-proxy-socket "$SOCK" --max-conns-per-source 1 2>"$D/cap.err"
expect_code "per-source cap: a network whose addresses hold one connection each" 0 $?
ip netns exec "$(ns 6)" python3 -c 'import socket, time
s = socket.create_connection(("127.0.0.1", 81))
time.sleep(3)' &
HOLD=$!
held() {
	fleet show "$CAPID" 2>/dev/null | grep -qx 'connections: 1'
}
wait_until -p "$HOLD" "$WAIT_MAX" held
ip netns exec "$(ns 6)" curl -s --max-time 3 -o /dev/null http://127.0.0.1:81/second
rc=$?
assert "per-source cap: the second connection is closed unanswered" "curl exit $rc" [ "$rc" -eq 52 -o "$rc" -eq 56 ]
show=$(fleet show "$CAPID")
assert "per-source cap: the refusal is counted on its network" "$(echo "$show" | tr '\n' ' ')" \
	[ "$(echo "$show" | grep -cx -e 'refused: 1' -e 'last error: too many connections')" = 2 ]
assert "per-source cap: its access line names the network, <NOSRV>, <BADREQ> and the reason" "$(grep -m1 too-many "$LOG")" \
	grep -qE "^[^ ]+ [^ ]+ [0-9]+ INFO ns_metadata_proxy\.access \[-\] 127\.0\.0\.1:[0-9]+ \[[^]]+\] $CAPID metadata/<NOSRV> -1/-1/-1/-1/[0-9]+ -1 0 - - PR-- .* \"<BADREQ>\" reason=too-many-connections$" "$LOG"
reap "$HOLD"
fleet del "$CAPID" 2>/dev/null

# --- 4. add and delete while others are loaded --------------------------------
# load NS: GETs for 4 s, one at a time; each status on a line of $D/load.NS.
load() {
	local end=$(($(ms) + 4000))
	while [ "$(ms)" -lt "$end" ]; do
		ip netns exec "$(ns "$1")" curl -s --noproxy '*' --max-time 5 -o /dev/null \
			-w '%{http_code}\n' "http://127.0.0.1/load$1" 2>/dev/null || echo 000
	done >"$D/load.$1"
}
for i in 1 2 3 4; do
	load "$i" &
	LOAD_PIDS+=($!)
done
churn_bad=0
C0=$((N > 45 ? N - 39 : 6)) # the networks churned: C0..N, never 1-5
for ((i = C0; i <= N; i++)); do
	fleet del "$(uuid "$i")" 2>>"$D/churn.err" || churn_bad=$((churn_bad + 1))
done
for ((i = C0; i <= N; i++)); do
	fleet add --netns "$(ns "$i")" --network-id "$(uuid "$i")" --bind-address 127.0.0.1 \
		--metadata-port 80 --metadata-proxy-socket "$SOCK" 2>>"$D/churn.err" ||
		churn_bad=$((churn_bad + 1))
done
for p in "${LOAD_PIDS[@]}"; do
	reap "$p"
done
LOAD_PIDS=()
assert "churn: $((N - C0 + 1)) networks deleted and added again" "$churn_bad failed: $(escape_file "$D/churn.err" 300)" [ "$churn_bad" -eq 0 ]
reqs=$(cat "$D"/load.[1-4] | wc -l)
fails=$(cat "$D"/load.[1-4] | grep -vc '^200$')
echo "  churn: $reqs requests on 4 other networks meanwhile"
assert "churn: the load on 4 other networks lost nothing" "$reqs requests, $fails not 200" \
	[ "$fails" -eq 0 -a "$reqs" -gt 0 ]
code=$(ip netns exec "$(ns "$N")" curl -s --max-time 5 -o /dev/null -w '%{http_code}' http://127.0.0.1/again)
expect_code "churn: a network added again answers" 200 "$code"

# --- 5. a namespace deleted takes its network with it --------------------------
before=$(fd_count)
ip netns delete "$(ns "$N")"
gone() {
	fleet show "$(uuid "$N")" >/dev/null 2>&1
	[ $? -eq 69 ]
}
if wait_until 50 gone; then
	ok "netns gone: its network is removed"
else
	fail "netns gone" "$(uuid "$N") is still served"
fi
after=$(fd_count)
assert "netns gone: its listener closed" "$before -> $after descriptors" [ "$after" -eq $((before - 1)) ]
assert "netns gone: logged" "no line in $LOG" grep -q "namespace $(ns "$N") is gone" "$LOG"
keep=()
for n in "${MADE_NS[@]}"; do
	[ "$n" = "$(ns "$N")" ] || keep+=("$n")
done
MADE_NS=("${keep[@]}")

# --- 6. who may speak -----------------------------------------------------------
# The socket is 0660 root:$PG; opened here (our own socket) so that the
# daemon's own check is what refuses.
chmod 0666 "$CTL"
setpriv --reuid 54321 --regid 54321 --clear-groups "$BIN" fleet list --control-socket "$CTL" \
	>/dev/null 2>"$D/peer.err"
expect_code "peers: another uid and group is refused (77)" 77 $?
assert "peers: the refusal says why" "$(escape_file "$D/peer.err" 200)" grep -q "permission denied" "$D/peer.err"
assert "peers: the daemon logs the refused peer" "no line" grep -q "refused pid .* uid 54321" "$LOG"
setpriv --reuid 54321 --regid 54321 --groups "$PGID" "$BIN" fleet list --control-socket "$CTL" \
	>/dev/null 2>"$D/peer2.err"
expect_code "peers: a member of the control group is let in" 0 $?
chmod 0660 "$CTL"

# --- 7. bad messages ------------------------------------------------------------
served=$(grep -vc '^#' <(fleet list))
python3 "$CHECK" control "$CTL" >"$D/bad.json" 2>"$D/bad.err"
bad_cases=$(j "$D/bad.json" 'sorted(k for k, v in d.items() if v["ok"] is not False or not v["error"] or v["then"] is not True)')
assert "control: 9 bad messages, each one error, the connection goes on" "wrong: $bad_cases $(escape_file "$D/bad.err" 200)" \
	[ "$bad_cases/$(j "$D/bad.json" 'len(d)')" = "[]/9" ]
assert "control: a pipe is not taken for a listener" "$(head -c 300 "$D/bad.json")" \
	[ "$(j "$D/bad.json" '"not a stream socket" in d["pipe_as_listener"]["error"]')" = true ]
assert "control: nothing changed" "networks: $served before" [ "$(grep -vc '^#' <(fleet list))" = "$served" ]

# --- 8. a flooded network does not starve another ------------------------------
# The flood holds 100 slow-body connections open in network 1 (its own
# limit: 32 of the daemon's 64); network 2 gets a request every 0.5 s.
ip netns exec "$(ns 1)" python3 "$FLOOD" 80 --conns 100 --length 1000 --seconds 6 \
	>"$D/flood.json" 2>"$D/flood.err" &
LOAD_PIDS+=($!)
sleep 1
good=0
for ((k = 0; k < 10; k++)); do
	code=$(ip netns exec "$(ns 2)" curl -s --max-time 3 -o /dev/null -w '%{http_code}' \
		"http://127.0.0.1/probe$k")
	[ "$code" = 200 ] && good=$((good + 1))
	sleep 0.4
done
open=$(fleet show "$(uuid 1)" | awk -F': ' '$1 == "connections" {print $2}')
assert "flood: another network answers >= 9 of 10" "$good of 10" [ "$good" -ge 9 ]
assert "flood: the flooded network holds at most its own limit" "$open open" [ "${open:-99}" -le 32 ]
for p in "${LOAD_PIDS[@]}"; do
	reap "$p"
done
LOAD_PIDS=()

# --- 9. the end -----------------------------------------------------------------
kill -TERM "$FLEET_PID"
reap "$FLEET_PID"
FLEET_PID=
expect_code "stop: SIGTERM ends the daemon with 0" 0 "$REAPED"
sanitizer_clean "$D/serve.err"
assert "stop: nothing on stderr but warnings" "$(escape_file "$D/serve.err" 300)" \
	[ "$(grep -vc '^ns-metadata-proxy: warning: ' "$D/serve.err")" -eq 0 ]

# --- 10. a restart under a service manager loses nothing ------------------------
# The stand-in speaks systemd's protocol: the daemon stores its control
# socket and each listener (FDSTORE=1), gets them back (LISTEN_FDS) and
# its networks' settings from its journal in --state-path.
STANDIN=$SRC/tests/support/fdstore_standin.py
SD=$D/sd
mkdir -p "$SD" "$D/state"
chmod 0711 "$SD"
python3 "$STANDIN" --dir "$SD" -- "$BIN" fleet serve --control-socket "$CTL" \
	--log-file "$LOG" --state-path "$D/state" \
	--metadata-proxy-user "$PU" --metadata-proxy-group "$PG" \
	</dev/null >"$D/standin.out" 2>"$D/serve2.err" &
STANDIN_PID=$!
LOAD_PIDS+=("$STANDIN_PID")
standin_ready() {
	local n
	n=$(grep -c '^ready' "$SD/events" 2>/dev/null)
	[ "${n:-0}" -ge "$1" ]
}
if ! wait_until -p "$STANDIN_PID" "$WAIT_MAX" standin_ready 1; then
	fail "restart" "the daemon did not start under the stand-in: $(escape_file "$D/serve2.err" 300)"
	finish
fi
R=$((N - 1 < 20 ? N - 1 : 20)) # network N's namespace is gone
bad=0
for ((i = 1; i <= R; i++)); do
	fleet add --netns "$(ns "$i")" --network-id "$(uuid "$i")" --bind-address 127.0.0.1 \
		--metadata-port 80 --metadata-proxy-socket "$SOCK" 2>>"$D/add2.err" || bad=$((bad + 1))
done
assert "restart: $R networks added" "$bad failed: $(escape_file "$D/add2.err" 300)" [ "$bad" -eq 0 ]
if ! grep -q "^stored $(uuid 1).0" "$SD/events"; then
	skip "restart" "the build has no libsystemd: nothing goes to a service manager"
else
	for i in 1 2; do
		load "$i" &
		BG=$!
		LOAD_PIDS+=("$BG")
	done
	sleep 1
	old=$(cat "$SD/pid")
	kill -USR1 "$STANDIN_PID"
	if wait_until 100 standin_ready 2; then
		ok "restart: the daemon is back"
	else
		fail "restart" "no second ready: $(tail -3 "$SD/events" | tr '\n' ' ')"
	fi
	new=$(cat "$SD/pid")
	assert "restart: a new process" "pid $old, then $new" [ "$new" != "$old" ]
	sleep 3.5
	reqs=$(cat "$D"/load.[12] | wc -l)
	fails=$(cat "$D"/load.[12] | grep -vc '^200$')
	echo "  restart: $reqs requests on 2 networks across it"
	assert "restart: no request refused or lost across it" "$fails of $reqs not 200" \
		[ "$fails" -eq 0 -a "$reqs" -gt 0 ]
	listed=$(fleet list | grep -vc '^#')
	assert "restart: all $R networks restored" "$listed listed" [ "$listed" -eq "$R" ]
	code=$(ip netns exec "$(ns "$R")" curl -s --max-time 5 -o /dev/null -w '%{http_code}' http://127.0.0.1/after)
	expect_code "restart: a restored network answers" 200 "$code"
	assert "restart: the log says so" "no line" grep -q "restored $R networks" "$LOG"
fi
kill -TERM "$STANDIN_PID"
reap "$STANDIN_PID"
sanitizer_clean "$D/serve2.err"

# --- 11. without a service manager the listeners do not survive ------------------
"$BIN" fleet serve --control-socket "$CTL" --log-file "$LOG" --state-path "$D/state" \
	--metadata-proxy-user "$PU" --metadata-proxy-group "$PG" --max-agent-conns 4 --maxconn 8 \
	</dev/null >/dev/null 2>"$D/serve3.err" &
FLEET_PID=$!
fleet_up() {
	fleet list >/dev/null 2>&1
}
if wait_until -p "$FLEET_PID" "$WAIT_MAX" fleet_up; then
	listed=$(fleet list | grep -vc '^#')
	assert "plain restart: no network (nobody kept the listeners)" "$listed listed" [ "$listed" -eq 0 ]
	assert "plain restart: each one logged as not restored" "no line" \
		grep -q "network $(uuid 1) not restored: its listeners did not survive" "$LOG"
else
	fail "plain restart" "no daemon: $(escape_file "$D/serve3.err" 300)"
fi

# --- 12. the agent sees at most --max-agent-conns (4) ---------------------------
# An agent that takes 0.3 s per request and counts the connections it holds
# (burst mode's "peak"); every network added (N-1), 3 clients each at once
# in 12 of them: 36 requests, answered 4 at a time, 8 connections at most
# in the daemon (--maxconn 8), the rest in their listeners' backlogs.
B=$((N < 12 ? N - 1 : 12))
python3 "$AGENT" --mode burst --delay 0.3 --socket "$D/busy.sock" --record "$D/busy.rec" \
	</dev/null >"$D/busy.out" 2>"$D/busy.err" &
BUSY_PID=$!
LOAD_PIDS+=("$BUSY_PID")
if wait_until -p "$BUSY_PID" "$WAIT_MAX" said_ready "$D/busy.out"; then
	# One fleet add --batch for them all: a line of options each. A batch
	# with one bad line is refused whole, naming the line.
	for ((i = 1; i < N; i++)); do
		echo "--netns $(ns "$i") --network-id $(uuid "$i") --bind-address 127.0.0.1 --metadata-port 80 --metadata-proxy-socket $D/busy.sock"
	done >"$D/batch"
	{
		head -3 "$D/batch"
		echo "# a comment, then a bad port"
		echo "--netns $(ns 4) --network-id $(uuid 4) --bind-address 127.0.0.1 --metadata-port 99999 --metadata-proxy-socket $D/busy.sock"
	} >"$D/batch.bad"
	fleet add --batch "$D/batch.bad" 2>"$D/batch.bad.err"
	expect_code "batch: a bad line refuses the whole batch (65)" 65 $?
	assert "batch: ... in one line naming line 5, nothing added" \
		"$(escape_file "$D/batch.bad.err" 300); $(fleet list | grep -vc '^#') listed" \
		[ "$(wc -l <"$D/batch.bad.err")" = 1 -a "$(grep -c 'line 5: invalid value for --metadata-port' "$D/batch.bad.err")" = 1 \
		-a "$(fleet list | grep -vc '^#')" = 0 ]
	expect_code "batch: not an option of fleet list (64)" 64 "$(fleet list --batch "$D/batch" 2>/dev/null; echo $?)"
	echo "$(head -1 "$D/batch") --control_socket /elsewhere.sock" >"$D/batch.ctl"
	expect_code "batch: a line may not name another control socket (64)" 64 \
		"$(fleet add --batch "$D/batch.ctl" 2>/dev/null; echo $?)"
	fleet add --batch - <"$D/batch" 2>"$D/add3.err"
	expect_code "batch: $((N - 1)) networks in one fleet add --batch (from standard input)" 0 $?
	listed=$(fleet list | grep -vc '^#')
	assert "batch: all $((N - 1)) listed" "$listed listed: $(escape_file "$D/add3.err" 300)" [ "$listed" -eq $((N - 1)) ]
	# Each time a connection ends at the limit, the daemon turns on again
	# the listeners it turned off: count what that costs in epoll_ctl.
	STRACE_PID=
	if command -v strace >/dev/null 2>&1; then
		strace -q -c -e trace=epoll_ctl -o "$D/strace.out" -p "$FLEET_PID" 2>"$D/strace.err" &
		STRACE_PID=$!
		LOAD_PIDS+=("$STRACE_PID")
		sleep 0.5
	fi
	CURLS=()
	for ((i = 1; i <= B; i++)); do
		for k in 1 2 3; do
			ip netns exec "$(ns "$i")" curl -s --noproxy '*' --max-time 20 -o /dev/null \
				-w '%{http_code}\n' "http://127.0.0.1/busy$i.$k" >"$D/busy.$i.$k" 2>&1 &
			CURLS+=($!)
		done
	done
	for p in "${CURLS[@]}"; do
		reap "$p"
	done
	if [ -n "$STRACE_PID" ]; then
		kill -INT "$STRACE_PID"
		reap "$STRACE_PID"
		calls=$(awk '$NF == "epoll_ctl" {print $4}' "$D/strace.out")
		echo "  at --maxconn 8 with $((N - 1)) networks: ${calls:-?} epoll_ctl for $((B * 3)) requests"
		# Per request: its client and agent sockets (about 6), and the few
		# listeners that had a connection waiting; never each network's.
		assert "maxconn: listeners turned off one by one, not all (epoll_ctl < 40 a request)" \
			"${calls:-none} epoll_ctl calls: $(escape_file "$D/strace.out" 200) $(escape_file "$D/strace.err" 200)" \
			[ "${calls:-999999}" -lt $((B * 3 * 40)) ]
	else
		skip "maxconn: epoll_ctl count" "strace is not installed"
	fi
	got=$(cat "$D"/busy.*.* | grep -c '^200$')
	assert "agent cap: all $((B * 3)) requests answered" "$got answered 200" [ "$got" -eq $((B * 3)) ]
	peak=$(python3 -c 'import json,sys; print(max(json.loads(l)["peak"] for l in open(sys.argv[1])))' \
		"$D/busy.rec" 2>/dev/null)
	assert "agent cap: the agent held 4 connections at most, and did hold 4" "peak ${peak:-none}" \
		[ "${peak:-0}" -eq 4 ]
	assert "agent cap: the daemon says it waits" "no line" \
		grep -q "all 4 connections in use; requests wait" "$LOG"
else
	fail "agent cap" "the agent did not start: $(escape_file "$D/busy.err" 300)"
fi
kill -TERM "$FLEET_PID"
reap "$FLEET_PID"
FLEET_PID=
sanitizer_clean "$D/serve3.err"

finish
