# shellcheck shell=bash
# Shared helpers of the network attack tests (net_*.sh), on top of
# tests/e2e/lib.sh (which this sources); sourced, never run.
#
# Each case gets its own directory D, port PORT, agent (fake_agent.py in
# attack mode: it counts every request that reaches it, smuggled ones
# included) and proxy, with either engine: ENGINE=haproxy (haproxy exec'd
# in place by `run`) or ENGINE=builtin. Only processes started here are
# stopped, by pid. Results meant for the docs go to OUT_DIR (under the
# build directory).

. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

CLIENT_TIMEOUT=120 # s for one raw_client.py run (floods take long)
HAPROXY=/usr/sbin/haproxy
ENGINES=(haproxy builtin)
EVIL=deadbeef-dead-4bad-8bad-deadbeefdead # what a VM claims to be
EVIL_IP=10.9.8.7
WAIT_MAX=150 # polls of 0.1 s: 15 s for any process to start or stop (ASan)

OUT_DIR=${NMP_BUILD_DIR:-$T}/security
mkdir -p "$OUT_DIR" || OUT_DIR=$T

# Sanitizer build: lower counts, looser memory bounds.
SANITIZED=0
case ${NMP_SANITIZED:-} in
1 | ON | on | TRUE | true | YES | yes) SANITIZED=1 ;;
"") grep -qa __asan_init "$BIN" && SANITIZED=1 ;;
esac
# ASan keeps freed memory in quarantine (256 MiB by default): RSS would
# grow with every byte that passed. Memory cases turn it off.
NO_QUARANTINE=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0

net_prereqs() {
	local need
	for need in "$HAPROXY" "$AGENT" "$CLIENT"; do
		if [ ! -f "$need" ]; then
			fail "prerequisites" "$need is missing"
			finish
		fi
	done
	if ! command -v python3 >/dev/null 2>&1; then
		fail "prerequisites" "python3 is not installed"
		finish
	fi
}

# --- processes: only what we started, by pid -------------------------------
#
# One case: case_begin NAME / case_end (lib.sh) give D, PORT, URL, SOCK and
# REC, and stop the clients in BG_PIDS, the proxy (PROXY_PID, PROXY_STOP)
# and the agent.

# attack_agent_start [ARGS]: fake_agent.py --mode attack on SOCK, recording to
# REC, its open connections in $D/agent.status; waits for "ready".
attack_agent_start() {
	agent_run "$AGENT" --mode attack --status "$D/agent.status" --idle 1 "$@"
}

# agent_settle: wait (5 s at most) until the agent holds no connection, so
# every record of what reached it is written.
agent_settle() {
	wait_until 50 agent_idle
}

agent_idle() {
	[ "$(cat "$D/agent.status" 2>/dev/null)" = 0 ]
}

# proxy_start ENGINE ARGS...: `run` in the foreground with ENGINE and the
# id options in IDA, listening on 127.0.0.1:PORT; ARGS are more options.
# E_ASAN_OPTIONS, if set, is the proxy's ASAN_OPTIONS.
proxy_start() {
	local engine=$1 serving
	shift
	ENGINE=$engine
	if [ "$engine" = fleet ]; then
		fleet_start "$@"
		return
	fi
	PROXY_STOP=("$BIN" stop "${IDA[@]}" --state-path "$D" --pid-file "$D/p.pid")
	(
		[ -n "${E_ASAN_OPTIONS:-}" ] && export ASAN_OPTIONS=$E_ASAN_OPTIONS
		exec "$BIN" run "${IDA[@]}" --state-path "$D" --metadata-proxy-socket "$SOCK" \
			--bind-address 127.0.0.1 --metadata-port "$PORT" \
			--metadata-proxy-user "$NMP_USER" --metadata-proxy-group "$NMP_GROUP" \
			--pid-file "$D/p.pid" --engine "$engine" "$@"
	) </dev/null >"$D/proxy.out" 2>"$D/proxy.err" &
	PROXY_PID=$!
	wait_until -p "$PROXY_PID" "$WAIT_MAX" proxy_up
	serving="^$HAPROXY -f "
	[ "$engine" = builtin ] && serving="^$BIN run "
	if alive "$PROXY_PID" && listens "$PORT" &&
		tr '\0' ' ' <"/proc/$PROXY_PID/cmdline" | grep -q "$serving"; then
		return 0
	fi
	fail "$CASE: $engine starts" "not serving on port $PORT within $((WAIT_MAX / 10)) s: $(escape_file "$D/proxy.err" 400)"
	return 1
}

# fleet_start ARGS...: `fleet serve` in the foreground (control socket in
# D), then `fleet add` of the network of IDA on 127.0.0.1:PORT with ARGS:
# the same network served by the fleet. Stopped by SIGTERM to its pid.
fleet_start() {
	(
		[ -n "${E_ASAN_OPTIONS:-}" ] && export ASAN_OPTIONS=$E_ASAN_OPTIONS
		exec "$BIN" fleet serve --control-socket "$D/c.sock" --state-path "$D" \
			--metadata-proxy-user "$NMP_USER" --metadata-proxy-group "$NMP_GROUP"
	) </dev/null >"$D/proxy.out" 2>"$D/proxy.err" &
	PROXY_PID=$!
	PROXY_STOP=(kill -TERM "$PROXY_PID")
	if wait_until -p "$PROXY_PID" "$WAIT_MAX" test -S "$D/c.sock" &&
		"$BIN" fleet add --control-socket "$D/c.sock" "${IDA[@]}" \
			--metadata-proxy-socket "$SOCK" --bind-address 127.0.0.1 \
			--metadata-port "$PORT" "$@" 2>>"$D/proxy.err" &&
		wait_until -p "$PROXY_PID" "$WAIT_MAX" listens "$PORT"; then
		return 0
	fi
	fail "$CASE: fleet starts" "not serving on port $PORT within $((WAIT_MAX / 10)) s: $(escape_file "$D/proxy.err" 400)"
	return 1
}

# proxy_stop and proxy_alive (lib.sh) take the proxy's stderr,
# $D/proxy.err: quoted on failure, checked for sanitizer reports.

# --- clients, JSON, records --------------------------------------------------

# client CMD ARGS... and j FILE EXPR come from lib.sh.

# jv FILE VAR=EXPR...: each EXPR over the JSON in FILE (d) into shell
# variable VAR ("?" when unreadable), with one python run.
jv() {
	local file=$1 out
	shift
	out=$(python3 - "$file" "$@" <<'EOF' 2>/dev/null
import json, shlex, sys
try:
    d = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    d = {}
for a in sys.argv[2:]:
    var, _, expr = a.partition("=")
    try:
        v = eval(expr, {"d": d})
        v = json.dumps(v, sort_keys=True) if isinstance(v, (list, dict, bool)) or v is None else str(v)
    except Exception:
        v = "?"
    print("%s=%s" % (var, shlex.quote(v)))
EOF
	)
	eval "$out"
}

# kib PID FIELD: VmRSS/VmHWM of PID in KiB.
kib() {
	sed -n "s/^$2:[[:space:]]*\([0-9]*\).*/\1/p" "/proc/$1/status" 2>/dev/null
}

# $T/netcheck.py, for the checkers the scripts write beside it in $T:
# load(CASES, RESULTS, RECORDS) gives the cases, the client's results ({}
# when unreadable) and the agent's records ([] when there are none);
# identity_problem(RECORD, ID) says why a request the agent read does not
# carry our identity headers alone (None when it does).
cat >"$T/netcheck.py" <<'EOF'
import json

SPOOFABLE = ("X_FORWARDED_FOR", "FORWARDED", "X_REAL_IP", "X_INSTANCE_ID",
             "X_INSTANCE_ID_SIGNATURE", "X_TENANT_ID")


def wsgi(name):
    """A header name as a WSGI agent keys it."""
    return name.strip().upper().replace("-", "_")


def identity_problem(rec, net_id):
    """Why the request's identity headers are not ours alone, or None:
    X-Forwarded-For the client's address (127.0.0.1) and
    X-Neutron-Network-ID ours, once each, no other of that kind."""
    names = [(wsgi(n), v.strip()) for n, v in rec["headers"]]
    xff = [v for n, v in names if n == "X_FORWARDED_FOR"]
    ids = [v for n, v in names if n == "X_NEUTRON_NETWORK_ID"]
    other = [n for n, v in names
             if n not in ("X_FORWARDED_FOR", "X_NEUTRON_NETWORK_ID") and
             (n in SPOOFABLE or n.startswith("X_NEUTRON_") or
              n.startswith("X_OVN_"))]
    if xff != ["127.0.0.1"]:
        return "X-Forwarded-For %s, not ours alone" % json.dumps(xff)
    if ids != [net_id]:
        return "X-Neutron-Network-ID %s, not ours alone" % json.dumps(ids)
    if other:
        return "identity headers the client wrote: %s" % ", ".join(other)
    return None


def load(cases_f, res_f, rec_f):
    cases = json.load(open(cases_f))
    try:
        res = json.load(open(res_f))
    except ValueError:
        res = {}
    recs = []
    try:
        recs = [json.loads(l) for l in open(rec_f) if l.strip()]
    except FileNotFoundError:
        pass
    return cases, res, recs
EOF

# verdicts FILE: count the verdict lines of a checker ("ok<TAB>NAME" or
# "FAIL<TAB>NAME<TAB>WHY") into ok/fail; other lines are the caller's.
verdicts() {
	local v name why
	while IFS=$'\t' read -r v name why; do
		case $v in
		ok) ok "$name" ;;
		FAIL) fail "$name" "$why" ;;
		esac
	done <"$1"
}
