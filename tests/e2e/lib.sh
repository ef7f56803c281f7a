# Shared helpers of the black-box tests; sourced, never run.
#
#   bash tests/e2e/NAME.sh /path/to/ns-metadata-proxy
#
# Gives: BIN (absolute), T (a private temporary directory, removed at exit),
# ID (a valid network uuid), NMP_USER/NMP_GROUP (what the proxy may run as),
# ok/fail/skip/assert/expect_code, runb (run the binary, capture into $T/out, $T/err
# and RC), one_line_stderr, no_control_chars, snapshot and finish, which
# prints the closing "N passed, N failed[, N skipped]" line CI parses;
# pick_port, alive/reap, wait_until, and the per-case scaffold (case_begin,
# agent_start, BG_PIDS, PROXY_PID, case_end) at the end.

if [ $# -lt 1 ] || [ -z "$1" ]; then
	echo "usage: bash $0 /path/to/ns-metadata-proxy" >&2
	exit 2
fi
BIN=$1
case $BIN in
/*) ;;
*) BIN=$PWD/$BIN ;;
esac
if [ ! -f "$BIN" ] || [ ! -x "$BIN" ]; then
	echo "not an executable file: $BIN" >&2
	exit 2
fi

export LC_ALL=C
umask 022

SRC=${NMP_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
AGENT=$SRC/tests/support/fake_agent.py
CLIENT=$SRC/tests/support/raw_client.py
WAIT_MAX=50 # polls of 0.1 s for a process to start or stop; slow builds raise it

PASSED=0
FAILED=0
SKIPPED=0

ID=3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f
ID2=0b9e8d7c-6f5a-4e3d-9c2b-1a0f9e8d7c6b

if [ "$(id -u)" -eq 0 ]; then
	IS_ROOT=1
	NMP_USER=root
	NMP_GROUP=root
else
	IS_ROOT=0
	NMP_USER=$(id -u)
	NMP_GROUP=$(id -g)
fi

# Commands run at exit before $T goes (e.g. "chattr -i DIR").
AT_EXIT=()
at_exit() {
	AT_EXIT+=("$1")
}

_lib_exit() {
	local c
	for c in "${AT_EXIT[@]}"; do
		eval "$c" >/dev/null 2>&1
	done
	if [ -n "${T:-}" ] && [ -d "$T" ]; then
		chmod -R u+rwx "$T" 2>/dev/null
		rm -rf "$T"
	fi
}

T=$(mktemp -d "${TMPDIR:-/tmp}/nmp-e2e.XXXXXXXX") || {
	echo "cannot create a temporary directory" >&2
	exit 2
}
trap _lib_exit EXIT
trap 'exit 130' INT TERM HUP

ok() {
	PASSED=$((PASSED + 1))
}

# fail NAME REASON...: one line per failing check.
fail() {
	local name=$1
	shift
	FAILED=$((FAILED + 1))
	printf 'FAIL %s: %s\n' "$name" "$*"
}

# skip NAME REASON...
skip() {
	local name=$1
	shift
	SKIPPED=$((SKIPPED + 1))
	printf 'SKIP %s: %s\n' "$name" "$*"
}

# assert NAME REASON COMMAND...: ok if the command succeeds, else fail.
assert() {
	local name=$1 reason=$2
	shift 2
	if "$@"; then
		ok "$name"
	else
		fail "$name" "$reason"
	fi
}

expect_code() {
	local name=$1 want=$2 got=$3
	if [ "$got" = "$want" ]; then
		ok "$name"
	else
		fail "$name" "exit code $got, want $want${LAST_CMD:+ (cmd: $LAST_CMD)}$(stderr_note)"
	fi
}

# The command line as one shell-quoted string, for failure messages.
quote_cmd() {
	local out="" a
	for a in "$@"; do
		out+="$(printf '%q' "$a") "
	done
	printf '%s' "${out% }"
}

# escape_file FILE [MAX]: the first MAX bytes of FILE on one line, as sed's
# "l" shows them (\n ends a line as $, other bytes as \ooo).
escape_file() {
	head -c "${2:-600}" "$1" | sed -n 'l 0' | tr '\n' ' '
}

# The captured stderr, escaped onto one line, for failure messages.
stderr_note() {
	[ -s "$T/err" ] || return 0
	printf '; stderr: %s' "$(escape_file "$T/err" 600)"
}

# runb ARGS...: run the binary (20 s at most) with stdin from /dev/null.
runb() {
	LAST_CMD="$(quote_cmd "$BIN" "$@")"
	timeout 20 "$BIN" "$@" </dev/null >"$T/out" 2>"$T/err"
	RC=$?
	return 0
}

# one_line FILE: exactly one line, ending in a newline.
one_line() {
	local n last
	n=$(wc -l <"$1")
	last=$(tail -c 1 "$1" | od -An -tx1 | tr -d ' \n')
	[ "$n" -eq 1 ] && [ "$last" = 0a ]
}

# no_control_chars FILE: no control character but the newline, no DEL,
# nothing outside ASCII (messages escape those as \xNN).
no_control_chars() {
	! grep -qaP '[\x00-\x09\x0b-\x1f\x7f-\xff]' "$1"
}

# snapshot DIR: a canonical listing of the tree under DIR - relative path,
# type, mode, owner, size, inode, mtime, sha256 of a file's content, a
# symlink's target - so equal listings mean nothing was created, removed,
# replaced or rewritten.
snapshot() {
	local dir=$1 p f
	if [ ! -e "$dir" ] && [ ! -L "$dir" ]; then
		echo "(absent)"
		return 0
	fi
	while IFS= read -r -d '' p; do
		f=$dir/$p
		[ "$p" = . ] && f=$dir
		printf '%q %s' "$p" "$(stat -c '%F mode=%a uid=%u gid=%g size=%s ino=%i mtime=%.9Y' -- "$f")"
		if [ -L "$f" ]; then
			printf ' -> %q' "$(readlink -- "$f")"
		elif [ -f "$f" ]; then
			printf ' sha256=%s' "$(sha256sum <"$f" | cut -d' ' -f1)"
		fi
		printf '\n'
	done < <(cd "$dir" && find . -print0 | sort -z)
}

# snapshot_content DIR: snapshot without directory mtimes, for operations
# that may create and remove a temporary (a directory's mtime then moves)
# but must leave every entry as it was.
snapshot_content() {
	snapshot "$1" | sed -E '/ directory mode=/s/ mtime=[0-9.]+//'
}

# same_snapshot NAME BEFORE_TEXT DIR [SNAPSHOT_FUNCTION]: DIR lists as it
# did (compared with snapshot, or the function given).
same_snapshot() {
	local name=$1 before=$2 dir=$3 after
	after=$("${4:-snapshot}" "$dir")
	same_text "$name" "$before" "$after" "tree under $dir changed${LAST_CMD:+ by $LAST_CMD}: "
}

# same_text NAME BEFORE AFTER PREFIX [LINES]: ok when the texts are equal,
# else a failure: PREFIX and the first LINES (6) lines that differ.
same_text() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1" "$4$(diff <(echo "$2") <(echo "$3") | grep '^[<>]' | head -n "${5:-6}" | tr '\n' ' ')"
	fi
}

# check NAME GOT WANT: equal strings.
check() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1" "got '$2', want '$3'"
	fi
}

finish() {
	if [ "$SKIPPED" -gt 0 ]; then
		printf '%d passed, %d failed, %d skipped\n' "$PASSED" "$FAILED" "$SKIPPED"
	else
		printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
	fi
	[ "$FAILED" -eq 0 ] && exit 0
	exit 1
}

# need_commands CMD...: each is on PATH, else one failing check and the end.
need_commands() {
	local need
	for need in "$@"; do
		if ! command -v "$need" >/dev/null 2>&1; then
			fail "prerequisites" "$need is not installed"
			finish
		fi
	done
}

# proxy_account: PU and PG, the user and group neutron's agents give the
# proxy (nobody, nogroup); the proxy's own user where we are not root or
# those do not exist.
proxy_account() {
	PU=nobody
	PG=nogroup
	if [ "$IS_ROOT" = 0 ] || ! getent passwd nobody >/dev/null || ! getent group nogroup >/dev/null; then
		PU=$NMP_USER
		PG=$NMP_GROUP
	fi
}

# --- ports ------------------------------------------------------------------

USED_PORTS=" "

# port_busy PORT: any TCP socket, v4 or v6, any state, on PORT.
port_busy() {
	local hex
	hex=$(printf '%04X' "$1")
	grep -qE "^ *[0-9]+: [0-9A-F]+:$hex " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# listeners PORT: how many sockets listen on PORT.
listeners() {
	local hex
	hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		grep -cE "^ *[0-9]+: [0-9A-F]+:$hex [0-9A-F]+:0000 0A "
}

# listens PORT [N]: at least N (1) sockets listen on PORT.
listens() {
	[ "$(listeners "$1")" -ge "${2:-1}" ]
}

# pick_port: a free port of 20000-29999 not used before by this script, in PORT.
pick_port() {
	local i p
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM + $$) % 10000))
		case $USED_PORTS in *" $p "*) continue ;; esac
		port_busy "$p" && continue
		USED_PORTS+="$p "
		PORT=$p
		return 0
	done
	return 1
}

# ms: milliseconds since the epoch.
ms() {
	echo $(($(date +%s%N) / 1000000))
}

# --- processes ----------------------------------------------------------------

# alive PID: running (a zombie we have not reaped yet is not).
alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$st" ] && [ "$st" != Z ]
}

# not COMMAND...: COMMAND fails (for wait_until).
not() {
	! "$@"
}

# wait_until [-p PID] TENTHS COMMAND...: run COMMAND every 0.1 s until it
# succeeds, for TENTHS x 0.1 s at most; fails when it never did, or as soon
# as PID (the process that should make it true) has ended.
wait_until() {
	local pid="" n i
	if [ "$1" = -p ]; then
		pid=$2
		shift 2
	fi
	n=$1
	shift
	for ((i = 0; ; i++)); do
		"$@" && return 0
		[ "$i" -lt "$n" ] || return 1
		[ -z "$pid" ] || alive "$pid" || return 1
		sleep 0.1
	done
}

# reap PID: wait (at most WAIT_MAX x 0.1 s) for our child PID to end,
# SIGKILL it if it does not, and collect it; its status in REAPED.
reap() {
	local pid=$1
	wait_until "$WAIT_MAX" not alive "$pid"
	if alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		sleep 0.1
	fi
	wait "$pid" 2>/dev/null
	REAPED=$?
}

# --- one case: directory, port, agent, proxy, background clients ------------
#
# case_begin NAME: CASE, a fresh directory D (short, under /tmp: a unix
# socket path is limited to 108 bytes), a free PORT and its URL, the agent's
# socket SOCK and record REC. What the case starts, case_end (also run at
# exit) stops, only by pid: the clients in BG_PIDS, the proxy PROXY_PID
# (first with its stop command PROXY_STOP, if any), the agent AGENT_PID;
# then D goes.

AGENT_PID=
PROXY_PID=
PROXY_STOP=()
BG_PIDS=()
CASE_DIR=
CASE_AT_EXIT=0

case_begin() {
	CASE=$1
	if [ "$CASE_AT_EXIT" -eq 0 ]; then
		at_exit case_end
		CASE_AT_EXIT=1
	fi
	D=$(mktemp -d /tmp/nmp.XXXXXX) || {
		fail "$CASE" "cannot create a temporary directory"
		return 1
	}
	CASE_DIR=$D
	REC=$D/rec.jsonl
	SOCK=$D/a.sock
	URL=
	pick_port || {
		fail "$CASE" "no free port in 20000-29999"
		return 1
	}
	URL=http://127.0.0.1:$PORT
	return 0
}

case_end() {
	bg_stop
	if [ -n "$PROXY_PID" ] && alive "$PROXY_PID" && [ ${#PROXY_STOP[@]} -gt 0 ]; then
		timeout 20 "${PROXY_STOP[@]}" </dev/null >/dev/null 2>&1
	fi
	proxy_kill
	agent_stop
	if [ -n "$CASE_DIR" ] && [ -d "$CASE_DIR" ]; then
		rm -rf "$CASE_DIR"
	fi
	CASE_DIR=
}

# bg_stop: every client in BG_PIDS gone (SIGTERM, then reap).
bg_stop() {
	local p
	for p in "${BG_PIDS[@]}"; do
		alive "$p" && kill -TERM "$p" 2>/dev/null
		reap "$p"
	done
	BG_PIDS=()
}

# bg_reap PID: reap a background client of ours and forget it, so that
# nothing signals its pid once it may belong to another process.
bg_reap() {
	local p keep=()
	reap "$1"
	for p in "${BG_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	BG_PIDS=("${keep[@]}")
}

# proxy_kill: the proxy of a case that went wrong, gone (SIGTERM, reap).
proxy_kill() {
	if [ -n "$PROXY_PID" ]; then
		alive "$PROXY_PID" && kill -TERM "$PROXY_PID" 2>/dev/null
		reap "$PROXY_PID"
		PROXY_PID=
	fi
}

agent_stop() {
	if [ -n "$AGENT_PID" ]; then
		kill -TERM "$AGENT_PID" 2>/dev/null
		reap "$AGENT_PID"
		AGENT_PID=
	fi
}

# proxy_up: the proxy listens on PORT and its pid is in $D/p.pid.
proxy_up() {
	listens "$PORT" && [ "$(cat "$D/p.pid" 2>/dev/null)" = "$PROXY_PID" ]
}

# said_ready FILE: a helper (an agent, a listener) printed its "ready" line
# into FILE.
said_ready() {
	grep -qx ready "$1" 2>/dev/null
}

# agent_run SCRIPT ARGS...: the agent SCRIPT on SOCK, recording to REC,
# with ARGS, output in $D/agent.out and agent.err; waits (WAIT_MAX polls)
# for its "ready".
agent_run() {
	local script=$1
	shift
	rm -f "$D/agent.out"
	python3 "$script" --socket "$SOCK" --record "$REC" "$@" \
		</dev/null >"$D/agent.out" 2>"$D/agent.err" &
	AGENT_PID=$!
	wait_until -p "$AGENT_PID" "$WAIT_MAX" said_ready "$D/agent.out" && return 0
	fail "$CASE: agent starts" "no 'ready' from the agent: $(escape_file "$D/agent.err" 300)"
	return 1
}

# agent_start MODE [ARGS...]: fake_agent.py in MODE (agent_run).
agent_start() {
	local mode=$1
	shift
	agent_run "$AGENT" --mode "$mode" "$@"
}

# proxy_stop [LOG]: `stop` (PROXY_STOP, 20 s at most) succeeds and our
# proxy is gone, one check "$CASE: stop"; when PROXY_EXIT is set, the
# proxy must also have exited with it. LOG, the proxy's stderr, is quoted
# on failure and must hold no sanitizer report.
proxy_stop() {
	local rc pid=$PROXY_PID log=${1:-}
	[ -n "$pid" ] || return 0
	timeout 20 "${PROXY_STOP[@]}" </dev/null >"$D/stop.out" 2>"$D/stop.err"
	rc=$?
	reap "$pid"
	PROXY_PID=
	if [ "$rc" -eq 0 ] && [ ! -e "/proc/$pid" ] &&
		{ [ -z "${PROXY_EXIT:-}" ] || [ "$REAPED" -eq "$PROXY_EXIT" ]; }; then
		ok "$CASE: stop"
	else
		fail "$CASE: stop" "stop exit $rc, proxy exit $REAPED, pid $pid $([ -e "/proc/$pid" ] && echo still there || echo gone): $(escape_file "$D/stop.err" 300)${log:+ $(escape_file "$log" 300)}"
	fi
	[ -z "$log" ] || sanitizer_clean "$log"
}

# proxy_alive NAME [LOG]: the proxy still runs (LOG quoted if not).
proxy_alive() {
	if alive "$PROXY_PID"; then
		ok "$1"
	else
		fail "$1" "proxy pid $PROXY_PID is gone${2:+: $(escape_file "$2" 400)}"
	fi
}

# http URL CURLARGS...: one request; status in CODE (000: no answer), curl's
# exit status in CURL_RC.
http() {
	local url=$1
	shift
	CODE=$(curl -sS -g --noproxy '*' --max-time 10 -o "$D/body" \
		-w '%{http_code}' "$@" "$url" 2>"$D/curl.err")
	CURL_RC=$?
	[ -n "$CODE" ] || CODE=000
}

# nrec: how many requests the agent recorded in REC.
nrec() {
	if [ -f "$REC" ]; then
		wc -l <"$REC"
	else
		echo 0
	fi
}

# client CMD ARGS...: raw_client.py CMD against PORT (CLIENT_TIMEOUT, 60 s,
# at most); its JSON in $D/c.json, its stderr in $D/c.err.
client() {
	local cmd=$1
	shift
	timeout "${CLIENT_TIMEOUT:-60}" python3 "$CLIENT" "$cmd" 127.0.0.1 "$PORT" "$@" \
		>"$D/c.json" 2>"$D/c.err"
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

# sanitizer_clean FILE: no ASan/LSan/UBSan report in FILE (the stderr of
# this case's proxy).
sanitizer_clean() {
	local re='ERROR: (Address|Leak)Sanitizer|runtime error:'
	if grep -qE "$re" "$1" 2>/dev/null; then
		fail "$CASE: sanitizers" "$(grep -m1 -E "$re" "$1" | head -c 300)"
	fi
}

# identity_spoofs NET_ID ROUTER_ID SRC: SPOOFS, the identity headers a VM
# at SRC may try, one request's extra headers an element, '|' between
# them; EVIL, EVIL2 and EVIL_IP are the claimed values. Odd case, '_' for
# '-', repeated, next to the real names with the real values (NET_ID,
# ROUTER_ID, SRC) first and last, lists; every flavour's headers, whatever
# the network's flavour. Last, all of them in one request: some 4 KiB of
# head, which may be refused before the agent.
identity_spoofs() {
	local net=$1 router=$2 src=$3 h x all
	SPOOFS=()
	for h in X-Neutron-Network-ID X-Neutron-Router-ID X-OVN-Network-ID; do
		x=${h//-/_}
		SPOOFS+=("$h: $EVIL" "$(odd "$h"): $EVIL" "$x: $EVIL" "$(odd "$x"): $EVIL"
			"${h%-ID}_ID: $EVIL" "$h: $EVIL|$x: $EVIL2|$(odd "$h"): $EVIL")
	done
	SPOOFS+=(
		"X-Forwarded-For: $EVIL_IP"
		"$(odd X-Forwarded-For): $EVIL_IP"
		"X_Forwarded_For: $EVIL_IP"
		"x-forwarded_for: $EVIL_IP, 10.9.8.6"
		"X-Forwarded-For: $EVIL_IP|x_forwarded_for: $EVIL_IP|X-FORWARDED-FOR: 10.9.8.6"
		"X-Forwarded-For: $src|X_Forwarded_For: $EVIL_IP"
		"X-Neutron-Network-ID: $net|x_neutron_network_id: $EVIL"
		"X-Neutron-Router-ID: $router|X_Neutron_Router_ID: $EVIL"
		"X-OVN-Network-ID: $net|x_ovn_network_id: $EVIL"
		"x_neutron_network_id: $EVIL|X-Neutron-Network-ID: $net"
		"X_OVN_Network_ID: $EVIL|X-OVN-Network-ID: $net"
		"X_Forwarded_For: $EVIL_IP|X-Forwarded-For: $src"
	)
	all=$(printf '%s|' "${SPOOFS[@]}")
	SPOOFS+=("${all%|}|${all%|}")
}

# odd S: S with every other letter upper case, the others lower.
odd() {
	local s=$1 out="" k c
	for ((k = 0; k < ${#s}; k++)); do
		c=${s:k:1}
		if ((k % 2)); then out+=${c^^}; else out+=${c,,}; fi
	done
	printf '%s' "$out"
}
