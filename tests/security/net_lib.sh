# shellcheck shell=bash
# Shared helpers of the network attack tests (net_*.sh); sourced after
# tests/e2e/lib.sh, never run.
#
# Each case gets its own directory D, port PORT, agent (fake_agent.py in
# attack mode: it counts every request that reaches it, smuggled ones
# included) and proxy, with either engine: ENGINE=haproxy (haproxy exec'd
# in place by `run`) or ENGINE=builtin. Only processes started here are
# stopped, by pid. Results meant for the docs go to OUT_DIR (under the
# build directory).

SRC=${NMP_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
AGENT=$SRC/tests/support/fake_agent.py
CLIENT=$SRC/tests/support/raw_client.py
HAPROXY=/usr/sbin/haproxy
ENGINES=(haproxy builtin)
EVIL=deadbeef-dead-4bad-8bad-deadbeefdead # what a VM claims to be
EVIL_IP=10.9.8.7
WAIT_MAX=150 # polls of 0.1 s: 15 s for any process to start or stop (ASan)
REAP_POLLS=$WAIT_MAX

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

AGENT_PID=
PROXY_PID=
PROXY_STOP=()
CASE_DIR=
BG_PIDS=()

agent_stop() {
	if [ -n "$AGENT_PID" ]; then
		kill -TERM "$AGENT_PID" 2>/dev/null
		reap "$AGENT_PID"
		AGENT_PID=
	fi
}

# bg_reap PID: reap (lib.sh) a background client of ours and forget it, so
# that nothing signals its pid once it may belong to another process.
bg_reap() {
	local p keep=()
	reap "$1"
	for p in "${BG_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	BG_PIDS=("${keep[@]}")
}

# proxy_kill: the proxy of a case that went wrong, gone (by its pid).
proxy_kill() {
	if [ -n "$PROXY_PID" ]; then
		alive "$PROXY_PID" && kill -TERM "$PROXY_PID" 2>/dev/null
		reap "$PROXY_PID"
		PROXY_PID=
	fi
}

bg_stop() {
	local p
	for p in "${BG_PIDS[@]}"; do
		alive "$p" && kill -TERM "$p" 2>/dev/null
		reap "$p"
	done
	BG_PIDS=()
}

net_cleanup() {
	bg_stop
	if [ -n "$PROXY_PID" ]; then
		if alive "$PROXY_PID" && [ ${#PROXY_STOP[@]} -gt 0 ]; then
			timeout 20 "${PROXY_STOP[@]}" </dev/null >/dev/null 2>&1
		fi
		alive "$PROXY_PID" && kill -TERM "$PROXY_PID" 2>/dev/null
		reap "$PROXY_PID"
		PROXY_PID=
	fi
	agent_stop
	if [ -n "$CASE_DIR" ] && [ -d "$CASE_DIR" ]; then
		rm -rf "$CASE_DIR"
	fi
	CASE_DIR=
}
at_exit net_cleanup

# net_begin NAME: a fresh directory D (short: the socket path is limited),
# a free PORT, the agent's record REC and socket SOCK.
net_begin() {
	CASE=$1
	D=$(mktemp -d /tmp/nmp.XXXXXX) || {
		fail "$CASE" "cannot create a temporary directory"
		return 1
	}
	CASE_DIR=$D
	REC=$D/rec.jsonl
	SOCK=$D/a.sock
	pick_port || {
		fail "$CASE" "no free port in 20000-29999"
		return 1
	}
	URL=http://127.0.0.1:$PORT
	return 0
}

net_end() {
	net_cleanup
}

# agent_start [ARGS]: fake_agent.py --mode attack on SOCK, recording to
# REC, its open connections in $D/agent.status; waits for "ready".
agent_start() {
	local i
	python3 "$AGENT" --socket "$SOCK" --record "$REC" --mode attack \
		--status "$D/agent.status" --idle 1 "$@" \
		</dev/null >"$D/agent.out" 2>"$D/agent.err" &
	AGENT_PID=$!
	for ((i = 0; i < WAIT_MAX; i++)); do
		grep -qx ready "$D/agent.out" 2>/dev/null && return 0
		alive "$AGENT_PID" || break
		sleep 0.1
	done
	fail "$CASE: agent starts" "no 'ready' from the agent: $(escape_file "$D/agent.err" 300)"
	return 1
}

# agent_settle: wait (5 s at most) until the agent holds no connection, so
# every record of what reached it is written.
agent_settle() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ "$(cat "$D/agent.status" 2>/dev/null)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# proxy_start ENGINE ARGS...: `run` in the foreground with ENGINE and the
# id options in IDA, listening on 127.0.0.1:PORT; ARGS are more options.
# E_ASAN_OPTIONS, if set, is the proxy's ASAN_OPTIONS.
proxy_start() {
	local engine=$1 i serving
	shift
	ENGINE=$engine
	PROXY_STOP=("$BIN" stop "${IDA[@]}" --state-path "$D" --pid-file "$D/p.pid")
	(
		[ -n "${E_ASAN_OPTIONS:-}" ] && export ASAN_OPTIONS=$E_ASAN_OPTIONS
		exec "$BIN" run "${IDA[@]}" --state-path "$D" --metadata-proxy-socket "$SOCK" \
			--bind-address 127.0.0.1 --metadata-port "$PORT" \
			--metadata-proxy-user "$NMP_USER" --metadata-proxy-group "$NMP_GROUP" \
			--pid-file "$D/p.pid" --engine "$engine" "$@"
	) </dev/null >"$D/proxy.out" 2>"$D/proxy.err" &
	PROXY_PID=$!
	for ((i = 0; i < WAIT_MAX; i++)); do
		alive "$PROXY_PID" || break
		[ "$(listeners "$PORT")" -ge 1 ] &&
			[ "$(cat "$D/p.pid" 2>/dev/null)" = "$PROXY_PID" ] && break
		sleep 0.1
	done
	serving="^$HAPROXY -f "
	[ "$engine" = builtin ] && serving="^$BIN run "
	if alive "$PROXY_PID" && [ "$(listeners "$PORT")" -ge 1 ] &&
		tr '\0' ' ' <"/proc/$PROXY_PID/cmdline" | grep -q "$serving"; then
		return 0
	fi
	fail "$CASE: $engine starts" "not serving on port $PORT within $((WAIT_MAX / 10)) s: $(escape_file "$D/proxy.err" 400)"
	return 1
}

# proxy_stop: `stop` succeeds, our proxy is gone, no sanitizer report.
proxy_stop() {
	local rc pid=$PROXY_PID
	[ -n "$pid" ] || return 0
	timeout 20 "${PROXY_STOP[@]}" </dev/null >"$D/stop.out" 2>"$D/stop.err"
	rc=$?
	reap "$pid"
	PROXY_PID=
	if [ "$rc" -eq 0 ] && [ ! -e "/proc/$pid" ]; then
		ok "$CASE: stop"
	else
		fail "$CASE: stop" "stop exit $rc, pid $pid $([ -e "/proc/$pid" ] && echo still there || echo gone): $(escape_file "$D/stop.err" 300)"
	fi
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$D/proxy.err" 2>/dev/null; then
		fail "$CASE: sanitizers" "$(grep -m1 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$D/proxy.err" | head -c 300)"
	fi
}

# proxy_alive NAME: the proxy still runs.
proxy_alive() {
	if alive "$PROXY_PID"; then
		ok "$1"
	else
		fail "$1" "proxy pid $PROXY_PID is gone: $(escape_file "$D/proxy.err" 400)"
	fi
}

# --- clients, JSON, records --------------------------------------------------

# client CMD ARGS...: raw_client.py against PORT; its JSON in $D/c.json.
client() {
	local cmd=$1
	shift
	timeout 120 python3 "$CLIENT" "$cmd" 127.0.0.1 "$PORT" "$@" >"$D/c.json" 2>"$D/c.err"
}

# j FILE EXPR: EXPR over the JSON in FILE (d), printed; "?" when unreadable.
j() {
	python3 - "$1" "$2" <<'EOF' 2>/dev/null || echo "?"
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError:
    d = {}
v = eval(sys.argv[2], {"d": d})
print(json.dumps(v, sort_keys=True) if isinstance(v, (list, dict, bool)) or v is None else v)
EOF
}

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

# check NAME GOT WANT: equal strings.
check() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1" "got '$2', want '$3'"
	fi
}

# kib PID FIELD: VmRSS/VmHWM of PID in KiB.
kib() {
	sed -n "s/^$2:[[:space:]]*\([0-9]*\).*/\1/p" "/proc/$1/status" 2>/dev/null
}

ms() {
	echo $(($(date +%s%N) / 1000000))
}

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
