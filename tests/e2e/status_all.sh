#!/bin/bash
# status --all: every proxy of a node, built here in a temporary state path:
# a `run --engine builtin` network, a `run --engine haproxy` router, a fleet
# serving a network and a router (`fleet add`), and a pidfile whose pid is
# dead. Cases:
#   1. the text form lists exactly those five, in the order of their ids,
#      each with its kind, engine, pid and state; the fleet's networks with
#      their request counts after a known number of requests;
#   2. --json says the same, and counts the names it skipped (a pidfile
#      name without a uuid, a symlink named as a pidfile; another service's
#      pidfile is no proxy and not counted);
#   3. nothing of the node changes: the state path and the fleet's counts
#      are the same before and after;
#   4. no fleet on the control socket: the rest, exit 0, nothing on stderr;
#   5. neutron's own layout: an unlocked <uuid>.pid.haproxy whose pid names
#      the id is running (neutron's test), a config nobody serves stopped;
#   6. bad options: one line on stderr, 64 or 65.
# Every process started here is stopped by its pid.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_commands curl python3
if [ ! -x /usr/sbin/haproxy ]; then
	skip "status_all" "no /usr/sbin/haproxy"
	finish
fi

# Ids in an order of their own: dead, builtin, fleet network, haproxy
# router, fleet router; then neutron's haproxy and a config alone.
ND=11111111-1111-4111-8111-111111111111
NB=22222222-2222-4222-8222-222222222222
F1=33333333-3333-4333-8333-333333333333
NH=44444444-4444-4444-8444-444444444444
F2=55555555-5555-4555-8555-555555555555
NN=66666666-6666-4666-8666-666666666666
NC=77777777-7777-4777-8777-777777777777

B_PID=
H_PID=
FLEET_PID=
NN_PID=
sa_cleanup() {
	local p
	for p in "$B_PID" "$H_PID" "$FLEET_PID" "$NN_PID"; do
		[ -n "$p" ] || continue
		alive "$p" && kill -TERM "$p" 2>/dev/null
		reap "$p"
	done
	B_PID= H_PID= FLEET_PID= NN_PID=
	case_end
}
at_exit sa_cleanup

case_begin "status_all" || finish
agent_start normal || finish
S=$D/state
FS=$D/fleet-state
CTL=$D/c.sock
mkdir -m 0755 "$S" "$FS"

# status_all ARGS...: status --all on this node; output in $T/out, $T/err.
status_all() {
	runb status --all --state-path "$S" --control-socket "$CTL" "$@"
}

# field ID N: the Nth word of ID's line in $T/out ("" when no line).
field() {
	awk -v id="$1" -v n="$2" '$1 == id { print $n }' "$T/out"
}

# --- the node ------------------------------------------------------------------
pick_port || finish
PB=$PORT
"$BIN" run --engine builtin --network-id "$NB" --state-path "$S" \
	--metadata-proxy-socket "$SOCK" --bind-address 127.0.0.1 --metadata-port "$PB" \
	</dev/null >"$D/b.out" 2>"$D/b.err" &
B_PID=$!
pick_port || finish
PH=$PORT
"$BIN" run --engine haproxy --router-id "$NH" --state-path "$S" \
	--metadata-proxy-socket "$SOCK" --bind-address 127.0.0.1 --metadata-port "$PH" \
	</dev/null >"$D/h.out" 2>"$D/h.err" &
H_PID=$!
"$BIN" fleet serve --control-socket "$CTL" --state-path "$FS" --log-file "$D/fleet.log" \
	</dev/null >"$D/serve.out" 2>"$D/serve.err" &
FLEET_PID=$!
pidfile_is() {
	[ "$(cat "$1" 2>/dev/null)" = "$2" ]
}
if wait_until -p "$B_PID" "$WAIT_MAX" listens "$PB" &&
	wait_until -p "$B_PID" "$WAIT_MAX" pidfile_is "$S/external/pids/$NB.pid" "$B_PID"; then
	ok "builtin proxy up"
	# Two requests it answers: its control socket counts them.
	for i in 1 2; do
		curl -sS --noproxy '*' --max-time 10 -o /dev/null "http://127.0.0.1:$PB/s$i"
	done
else
	fail "builtin proxy" "not up: $(escape_file "$D/b.err" 300)"
	finish
fi
if wait_until -p "$H_PID" "$WAIT_MAX" listens "$PH" &&
	wait_until -p "$H_PID" "$WAIT_MAX" pidfile_is "$S/external/pids/$NH.pid" "$H_PID"; then
	ok "haproxy proxy up"
else
	fail "haproxy proxy" "not up: $(escape_file "$D/h.err" 300)"
	finish
fi
if ! wait_until -p "$FLEET_PID" "$WAIT_MAX" test -S "$CTL"; then
	fail "fleet serve" "no control socket: $(escape_file "$D/serve.err" 300)"
	finish
fi
pick_port || finish
P1=$PORT
pick_port || finish
P2=$PORT
"$BIN" fleet add --control-socket "$CTL" --network-id "$F1" --bind-address 127.0.0.1 \
	--metadata-port "$P1" --metadata-proxy-socket "$SOCK" </dev/null 2>"$D/add1.err"
expect_code "fleet add $F1" 0 $?
"$BIN" fleet add --control-socket "$CTL" --router-id "$F2" --bind-address 127.0.0.1 \
	--metadata-port "$P2" --metadata-proxy-socket "$SOCK" </dev/null 2>"$D/add2.err"
expect_code "fleet add $F2" 0 $?
# A pid that has ended, in a pidfile nobody holds.
sleep 0 &
DEAD=$!
wait "$DEAD"
printf '%s\n' "$DEAD" >"$S/external/pids/$ND.pid"
# Names that are no proxy's: skipped and counted, or not ours at all.
printf '1\n' >"$S/external/pids/not-a-uuid.pid"
ln -s "$NB.pid" "$S/external/pids/99999999-9999-4999-8999-999999999999.pid"
printf '1\n' >"$S/external/pids/$NB.pid.radvd"

# Three requests through the fleet's network, none through its router.
bad=0
for i in 1 2 3; do
	http "http://127.0.0.1:$P1/n$i"
	[ "$CODE" = 200 ] || bad=$((bad + 1))
done
assert "three requests through $F1" "$bad were not answered 200" [ "$bad" -eq 0 ]

# --- 1. the text form ------------------------------------------------------------
BEFORE=$(snapshot "$S")
status_all
expect_code "text: exit 0" 0 "$RC"
check "text: the header" "$(head -n 1 "$T/out")" "# id kind engine pid state uptime requests last-error"
check "text: the five ids, in order" "$(tail -n +2 "$T/out" | awk '{print $1}' | tr '\n' ' ')" \
	"$ND $NB $F1 $NH $F2 "
check "text: dead pidfile" "$(field "$ND" 3) $(field "$ND" 4) $(field "$ND" 5) $(field "$ND" 6) $(field "$ND" 7)" \
	"- $DEAD dead - -"
check "text: builtin" "$(field "$NB" 2) $(field "$NB" 3) $(field "$NB" 4) $(field "$NB" 5)" \
	"network builtin $B_PID running"
check "text: haproxy" "$(field "$NH" 2) $(field "$NH" 3) $(field "$NH" 4) $(field "$NH" 5)" \
	"router haproxy $H_PID running"
check "text: fleet network" "$(field "$F1" 2) $(field "$F1" 3) $(field "$F1" 4) $(field "$F1" 5) $(field "$F1" 7) $(field "$F1" 8)" \
	"network fleet $FLEET_PID running 3 -"
check "text: fleet router" "$(field "$F2" 2) $(field "$F2" 3) $(field "$F2" 4) $(field "$F2" 5) $(field "$F2" 7) $(field "$F2" 8)" \
	"router fleet $FLEET_PID running 0 -"
# No counters from a per-network process yet: haproxy has none to give.
check "text: haproxy's requests unknown" "$(field "$NH" 7) $(field "$NH" 8)" "- -"
# The builtin answers list on <pidfile>.ctl: its requests and last error.
check "text: builtin's requests, from its control socket" "$(field "$NB" 7) $(field "$NB" 8)" "2 -"
up_ok=1
for id in "$NB" "$NH" "$F1" "$F2"; do
	u=$(field "$id" 6)
	case $u in '' | *[!0-9]*) up_ok=0 ;; *) [ "$u" -lt 600 ] || up_ok=0 ;; esac
done
assert "text: uptimes in seconds" "$(cat "$T/out")" [ "$up_ok" = 1 ]
assert "text: one warning line for the skipped names" "$(escape_file "$T/err" 400)" \
	one_line "$T/err"
assert "text: ... which says how many" "$(escape_file "$T/err" 400)" grep -q "^ns-metadata-proxy: warning: 2 names" "$T/err"
cp "$T/out" "$D/text"

# --- 2. JSON -----------------------------------------------------------------------
status_all --json
expect_code "json: exit 0" 0 "$RC"
cp "$T/out" "$D/json"
if python3 -c 'import json,sys; json.load(sys.stdin)' <"$D/json" 2>"$D/json.err"; then
	ok "json: parses"
else
	fail "json: parses" "$(escape_file "$D/json.err" 300): $(escape_file "$D/json" 300)"
fi
# The JSON as the text form would print it (uptimes left out: a second may
# pass between the two).
as_text() {
	python3 - "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
def s(v):
    return "-" if v is None or v == "" else str(v).replace(" ", "-")
for p in d["proxies"]:
    print(" ".join(s(p[k]) for k in ("id", "kind", "engine", "pid", "state", "requests", "last_error")))
EOF
}
check "json: the same as the text" "$(as_text "$D/json" | tr '\n' '|')" \
	"$(tail -n +2 "$D/text" | awk '{print $1, $2, $3, $4, $5, $7, $8}' | tr '\n' '|')"
check "json: skipped" "$(j "$D/json" 'd["skipped"]')" 2
check "json: the dead pidfile's path" "$(j "$D/json" '[p["pidfile"] for p in d["proxies"] if p["id"] == "'"$ND"'"][0]')" \
	"$S/external/pids/$ND.pid"
check "json: a fleet network has no pidfile, its error none" \
	"$(j "$D/json" '[[p["pidfile"], p["last_error"], p["uptime"] >= 0] for p in d["proxies"] if p["id"] == "'"$F1"'"][0]')" \
	'[null, "", true]'
check "json: unknowns are null" \
	"$(j "$D/json" '[[p["kind"], p["engine"], p["uptime"], p["requests"]] for p in d["proxies"] if p["id"] == "'"$ND"'"][0]')" \
	'[null, null, null, null]'

# --- 3. nothing changed ---------------------------------------------------------
same_snapshot "unchanged: the state path" "$BEFORE" "$S"
status_all
check "unchanged: the fleet's counts" "$(field "$F1" 7) $(field "$F2" 7)" "3 0"
alive "$B_PID" && alive "$H_PID" && alive "$FLEET_PID"
assert "unchanged: every proxy still runs" "one has ended" [ $? -eq 0 ]

# --- 4. no fleet --------------------------------------------------------------------
runb status --all --state-path "$S" --control-socket "$D/none.sock"
expect_code "no fleet: exit 0" 0 "$RC"
check "no fleet: the others" "$(tail -n +2 "$T/out" | awk '{print $1}' | tr '\n' ' ')" "$ND $NB $NH "
rm -f "$S/external/pids/not-a-uuid.pid" "$S/external/pids/99999999-9999-4999-8999-999999999999.pid"
runb status --all --state-path "$S" --control-socket "$D/none.sock"
assert "no fleet: nothing on stderr" "$(escape_file "$T/err" 300)" [ ! -s "$T/err" ]

# --- 5. neutron's layout ---------------------------------------------------------
# neutron's haproxy writes its pidfile and holds no lock on it: running when
# the pid's command line names the id.
bash -c 'exec -a "haproxy-metadata-proxy-$1" sleep 300' _ "$NN" </dev/null >/dev/null 2>&1 &
NN_PID=$!
wait_until "$WAIT_MAX" grep -q "$NN" "/proc/$NN_PID/cmdline"
printf '%s' "$NN_PID" >"$S/external/pids/$NN.pid.haproxy"
printf 'listen listener\n    http-request set-header X-Neutron-Router-ID %s\n' "$NC" \
	>"$S/ns-metadata-proxy/$NC.conf"
status_all
expect_code "neutron: exit 0" 0 "$RC"
check "neutron: its unlocked pidfile" "$(field "$NN" 4) $(field "$NN" 5)" "$NN_PID running"
check "neutron: a config alone" "$(field "$NC" 2) $(field "$NC" 3) $(field "$NC" 4) $(field "$NC" 5)" \
	"router - - stopped"
check "neutron: the haproxy router's kind from its config" "$(field "$NH" 2)" router
kill -TERM "$NN_PID" 2>/dev/null
reap "$NN_PID"
NN_PID=
status_all
check "neutron: its pid gone: dead" "$(field "$NN" 5)" dead
rm -f "$S/external/pids/$NN.pid.haproxy" "$S/ns-metadata-proxy/$NC.conf"

# --- 6. bad options ---------------------------------------------------------------
bad_option() {
	local name=$1 want=$2
	shift 2
	runb "$@"
	expect_code "bad option: $name ($want)" "$want" "$RC"
	assert "bad option: $name: one line on stderr" "$(escape_file "$T/err" 300)" one_line "$T/err"
	assert "bad option: $name: nothing on stdout" "$(escape_file "$T/out" 300)" [ ! -s "$T/out" ]
}
bad_option "relative --state-path" 65 status --all --state-path "state"
bad_option "--network-id" 64 status --all --network-id "$NB"
bad_option "--json without --all" 64 status --json --network-id "$NB"
bad_option "--all on run" 64 run --all --network-id "$NB"
bad_option "an unknown option" 64 status --all --everything
grep -q "'--everything'" "$T/err"
assert "bad option: the option named" "$(escape_file "$T/err" 300)" [ $? -eq 0 ]

finish
