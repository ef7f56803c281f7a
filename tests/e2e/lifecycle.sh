#!/bin/bash
# The life of a running proxy, with real haproxy, curl, sockets and a fake
# metadata agent: run in the foreground (the pid started is the pid that
# serves) and as a daemon, the pidfile lock against a second or concurrent
# start, status and stop (SIGTERM, then SIGKILL after --stop-timeout), stop
# never signalling a pid that is not this id's proxy, a clean environment
# and no inherited descriptors in haproxy, neutron's old command line,
# daemon failures reaching the caller, and --netns.
#
#   bash tests/e2e/lifecycle.sh /path/to/ns-metadata-proxy
#   NMP_ENGINE=builtin bash tests/e2e/lifecycle.sh /path/to/ns-metadata-proxy
#
# NMP_ENGINE picks the engine every `run` gets (--engine, default haproxy).
# The serving process is haproxy for the haproxy engine and the tested
# binary itself for the built-in one (no exec: it keeps its pid, its
# environment and its descriptors, and writes no haproxy config), so the
# cases about exec'ing haproxy are skipped there, the config-file checks
# become pidfile-only, and the built-in engine gets its own cases for a
# busy port and for the privilege drop.
#
# Every case has its own state directory (mktemp -d /tmp/nmp.XXXXXX), uuid,
# port and agent, and stops what it started; an EXIT trap kills whatever is
# left of it (only pids this script started, or serving processes carrying
# one of this script's uuids) and deletes the namespaces it made.
set -u

ENGINE=${NMP_ENGINE:-haproxy}
case $ENGINE in
haproxy | builtin) ;;
*)
	echo "NMP_ENGINE must be haproxy or builtin, not '$ENGINE'" >&2
	exit 2
	;;
esac

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"

NBIN=$(dirname "$BIN")/neutron-ns-metadata-proxy
# What /proc/PID/exe of a built-in proxy reads (symlinks resolved).
BIN_EXE=$(readlink -f -- "$BIN")

if [ "$(id -u)" -eq 0 ]; then
	IS_ROOT=1
	RUN_USER=root
	RUN_GROUP=root
else
	IS_ROOT=0
	RUN_USER=$(id -u)
	RUN_GROUP=$(id -g)
fi
CLEAN_ENV='PATH=/usr/sbin:/usr/bin:/sbin:/bin'

# --- cleanup ----------------------------------------------------------------

PIDS=()   # every pid this script started itself
UUIDS=()  # every id used: a serving process carrying one is ours
DIRS=()   # every state directory
NETNSES=() # every namespace made

# is_server PID: PID is a serving process of this engine: haproxy, or for
# the built-in engine the tested binary itself.
is_server() {
	local exe
	exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
	if [ "$ENGINE" = builtin ]; then
		[ "$exe" = "$BIN_EXE" ]
	else
		[ "${exe##*/}" = haproxy ]
	fi
}

# Serving processes (is_server) whose command line carries UUID.
proxy_pids() {
	local p
	for p in $(pgrep -f -- "$1"); do
		[ "$p" = "$$" ] && continue
		is_server "$p" && echo "$p"
	done
}

cleanup_all() {
	local p u n d kids
	for u in "${UUIDS[@]}"; do
		for p in $(proxy_pids "$u"); do
			kill -CONT "$p" 2>/dev/null
			kill -KILL "$p" 2>/dev/null
		done
	done
	# Only children not yet waited for: a reaped pid may be someone's now.
	kids=" $(jobs -p | tr '\n' ' ') "
	for p in "${PIDS[@]}"; do
		case $kids in *" $p "*) ;; *) continue ;; esac
		kill -CONT "$p" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
	done
	for n in "${NETNSES[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	for d in "${DIRS[@]}"; do
		case $d in /tmp/nmp.*) rm -rf -- "$d" ;; esac
	done
}

_lc_exit() {
	local rc=$?
	trap - EXIT
	cleanup_all >/dev/null 2>&1
	if declare -F _lib_exit >/dev/null; then
		_lib_exit
	fi
	exit "$rc"
}
trap _lc_exit EXIT
trap 'exit 130' INT TERM HUP

# --- helpers ----------------------------------------------------------------

now_ms() { date +%s%3N; }

# A pid is gone once /proc has no entry or only a zombie is left.
gone() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	st=${st##*) }
	[ "${st%% *}" = Z ]
}

# wait_gone PID [TENTHS]: poll (at most TENTHS x 0.1 s) until PID is gone.
wait_gone() {
	wait_until "${2:-50}" gone "$1"
}

# collect PID [TENTHS]: for a child of this script: wait_gone, then collect
# its status into REAPED (empty when it did not end). Unlike lib.sh's reap,
# it never kills: an unkillable proxy is what some cases look for.
collect() {
	REAPED=
	# (bash's "Killed" job notices are noise here: the status is checked)
	{ wait_gone "$@"; } 2>/dev/null || return 1
	{ wait "$1"; } 2>/dev/null
	REAPED=$?
	return 0
}

USED_PORTS=" "
# A free TCP port in 20000-29999 not used before by this script, in P.
free_port() {
	local i p
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 10000))
		case $USED_PORTS in *" $p "*) continue ;; esac
		if [ -z "$(ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null)" ]; then
			USED_PORTS+="$p "
			P=$p
			return 0
		fi
	done
	echo "no free port found" >&2
	exit 2
}

# newcase NAME: fresh state D, id U, port P, agent socket SOCK, pidfile
# PIDF, config CONF, option vectors RA (run, with --engine) and SA
# (status/stop).
newcase() {
	C=$1
	D=$(mktemp -d /tmp/nmp.XXXXXX) || {
		echo "cannot create a state directory" >&2
		exit 2
	}
	DIRS+=("$D")
	U=$(cat /proc/sys/kernel/random/uuid)
	UUIDS+=("$U")
	free_port
	SOCK=$D/a.sock
	PIDF=$D/external/pids/$U.pid
	CONF=$D/ns-metadata-proxy/$U.conf
	RA=(--engine "$ENGINE" --network-id "$U" --state-path "$D" --metadata-proxy-socket "$SOCK"
		--bind-address 127.0.0.1 --metadata-port "$P"
		--metadata-proxy-user "$RUN_USER" --metadata-proxy-group "$RUN_GROUP")
	SA=(--network-id "$U" --state-path "$D")
}

# start_agent: the fake agent on $SOCK, recording into $D/rec.
start_agent() {
	python3 "$AGENT" --socket "$SOCK" --record "$D/rec" </dev/null \
		>"$D/agent.out" 2>"$D/agent.err" &
	AGENT_PID=$!
	PIDS+=("$AGENT_PID")
	wait_until -p "$AGENT_PID" 50 said_ready "$D/agent.out" && [ -S "$SOCK" ] && return 0
	fail "$C: agent" "the fake agent did not get ready: $(head -c 300 "$D/agent.err" | tr '\n' ' ')"
	return 1
}

# accepts PORT [NETNS]: something accepts on 127.0.0.1:PORT.
accepts() {
	if [ -n "${2:-}" ]; then
		ip netns exec "$2" timeout 2 bash -c "exec 9<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
	else
		timeout 2 bash -c "exec 9<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
	fi
}

# wait_port PORT [PID] [NETNS]: up to 5 s for the port to accept, giving up
# early when PID has ended.
wait_port() {
	local give_up=()
	[ -n "${2:-}" ] && give_up=(-p "$2")
	wait_until "${give_up[@]}" 50 accepts "$1" "${3:-}"
}

# http_code PORT [NETNS]: GET /latest/meta-data/ through the proxy; the
# HTTP status in CODE (000: none), curl's exit code in CURL_RC.
http_code() {
	local ns=()
	[ -n "${2:-}" ] && ns=(ip netns exec "$2")
	CODE=$("${ns[@]}" curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' \
		--max-time 5 "http://127.0.0.1:$1/latest/meta-data/" 2>/dev/null)
	CURL_RC=$?
	CODE=${CODE:-000}
}

# agent_saw HEADER VALUE: the agent recorded a request carrying it (header
# names compared without case: haproxy sends them in lower case).
agent_saw() {
	[ -f "$D/rec" ] && grep -qiF -- "[\"$1\", \"$2\"]" "$D/rec"
}

# start_fg [MORE...]: `run` in the foreground of a background job, its pid
# in FG; then wait for the port and for the pidfile to name it (the
# built-in engine listens a moment before it writes its pid).
start_fg() {
	"$BIN" run "${RA[@]}" "$@" </dev/null >"$D/run.out" 2>"$D/run.err" &
	FG=$!
	PIDS+=("$FG")
	wait_port "$P" "$FG" || return 1
	wait_until 20 test -s "$PIDF"
	return 0
}

# nmp SUB ARGS...: the binary (20 s at most), output in $D/out, $D/err, RC.
nmp() {
	timeout 20 "$BIN" "$@" </dev/null >"$D/out" 2>"$D/err"
	RC=$?
}

err_note() { printf 'stderr: %s' "$(head -c 400 "$D/err" 2>/dev/null | tr '\n' ' ')"; }

code_is() { # NAME WANT GOT [NOTE]
	if [ "$3" = "$2" ]; then
		ok "$1"
	else
		fail "$1" "exit code $3, want $2${4:+; $4}"
	fi
}

file_has() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
absent() { [ ! -e "$1" ] && [ ! -L "$1" ]; }
no_pid_in() { [ ! -e "$1" ] || [ ! -s "$1" ]; }
cmdline_has() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"; }
cmdline_of() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null; }
# The name of the serving process in messages.
if [ "$ENGINE" = builtin ]; then SERVER="ns-metadata-proxy"; else SERVER=haproxy; fi
# haproxy_with UUID: haproxy processes carrying UUID (the built-in engine
# must start none).
haproxy_with() {
	local p exe
	for p in $(pgrep -f -- "$1"); do
		exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
		[ "${exe##*/}" = haproxy ] && echo "$p"
	done
}
# no_config: the built-in engine writes no haproxy config.
no_config() { absent "$CONF" && absent "$(dirname "$CONF")"; }
sha() { sha256sum <"$1" 2>/dev/null | cut -d' ' -f1; }
ino() { stat -c %i -- "$1" 2>/dev/null; }
stat_field() { # PID N: field N of /proc/PID/stat (1-based, comm counted as 2)
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	local n=$2
	set -- $st
	shift $((n - 3))
	echo "$1"
}
nprocs_with() { pgrep -f -- "$1" | wc -l; }
none_with() { [ "$(nprocs_with "$1")" = 0 ]; }

# end_case: stop what the case left (stop, then kill by pid), quietly.
end_case() {
	local p
	timeout 20 "$BIN" stop "${SA[@]}" --stop-timeout 2 </dev/null >/dev/null 2>&1
	for p in $(proxy_pids "$U"); do
		kill -CONT "$p" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		alive "$p" && kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		if ! wait_gone "$p" 20; then
			kill -CONT "$p" 2>/dev/null
			kill -KILL "$p" 2>/dev/null
			wait_gone "$p" 20
		fi
		wait "$p" 2>/dev/null
	done
	PIDS=()
}

if ! command -v curl >/dev/null || ! command -v python3 >/dev/null ||
	! command -v ss >/dev/null || [ ! -f "$AGENT" ] ||
	{ [ "$ENGINE" = haproxy ] && [ ! -x /usr/sbin/haproxy ]; }; then
	need="curl, python3, ss and $AGENT"
	[ "$ENGINE" = haproxy ] && need="curl, python3, ss, /usr/sbin/haproxy and $AGENT"
	fail "setup" "need $need"
	finish
fi
# Skip the haproxy-exec cases of the built-in engine with this reason.
NO_EXEC="no exec: the built-in engine is this process"

SCRIPT_SID=$(stat_field $$ 6)

# --- 1. foreground: the pid started is the pid that serves --------------------
newcase foreground
if start_agent; then
	if start_fg; then
		ok "$C: port accepts"
		assert "$C: pidfile holds the started pid" "pidfile has '$(cat "$PIDF" 2>/dev/null)', want $FG" \
			file_has "$PIDF" "$FG"
		assert "$C: the started pid is $SERVER" "/proc/$FG/exe is '$(readlink /proc/$FG/exe)'" \
			is_server "$FG"
		assert "$C: cmdline carries the uuid" "/proc/$FG/cmdline: $(cmdline_of "$FG")" \
			cmdline_has "$FG" "$U"
		if [ "$ENGINE" = builtin ]; then
			assert "$C: cmdline is the run command" "/proc/$FG/cmdline: $(cmdline_of "$FG")" \
				eval '[ "$(cmdline_of "$FG")" = "$BIN run ${RA[*]} " ]'
			assert "$C: no haproxy config written" "$(ls -d "$(dirname "$CONF")" "$CONF" 2>/dev/null)" \
				no_config
			assert "$C: no haproxy carries the uuid" "haproxy pids: $(haproxy_with "$U" | tr '\n' ' ')" \
				eval '[ -z "$(haproxy_with "$U")" ]'
		fi
		http_code "$P"; code=$CODE
		code_is "$C: request through the proxy" 200 "$code" "HTTP status (curl exit $CURL_RC)"
		assert "$C: agent saw the network id" "no X-Neutron-Network-ID $U in $D/rec" \
			agent_saw X-Neutron-Network-ID "$U"
	else
		fail "$C: port accepts" "port $P never accepted; run stderr: $(head -c 300 "$D/run.err" | tr '\n' ' ')"
	fi
fi
end_case

# --- 2. a second start for the same id ----------------------------------------
newcase second-start
if start_agent && start_fg; then
	conf_sum=
	[ "$ENGINE" = haproxy ] && conf_sum=$(sha "$CONF")
	pid_text=$(cat "$PIDF")
	pid_ino=$(ino "$PIDF")
	t0=$(now_ms)
	timeout 10 "$BIN" run "${RA[@]}" </dev/null >"$D/out" 2>"$D/err"
	RC=$?
	el=$(($(now_ms) - t0))
	code_is "$C: exits 75" 75 "$RC" "$(err_note)"
	assert "$C: at once" "took ${el} ms" [ "$el" -lt 3000 ]
	assert "$C: stderr names the running pid" "$(err_note)" grep -q "pid $FG\b" "$D/err"
	assert "$C: one stderr line" "$(err_note)" one_line "$D/err"
	if [ "$ENGINE" = builtin ]; then
		assert "$C: still no config" "$CONF exists" no_config
	else
		assert "$C: config unchanged" "sha256 of $CONF changed" \
			eval '[ -n "$conf_sum" ] && [ "$(sha "$CONF")" = "$conf_sum" ]'
	fi
	assert "$C: pidfile unchanged" "pidfile now '$(cat "$PIDF" 2>/dev/null)' ino $(ino "$PIDF"), was '$pid_text' ino $pid_ino" \
		eval '[ "$(cat "$PIDF")" = "$pid_text" ] && [ "$(ino "$PIDF")" = "$pid_ino" ]'
	http_code "$P"; code=$CODE
	code_is "$C: first proxy still serves" 200 "$code" "HTTP status"
else
	fail "$C: first start" "the proxy did not come up: $(head -c 300 "$D/run.err" | tr '\n' ' ')"
fi
end_case

# --- 3. status: running, stale, not running -----------------------------------
newcase status
if start_agent && start_fg; then
	nmp status "${SA[@]}"
	code_is "$C: running" 0 "$RC" "$(err_note)"
	assert "$C: stdout names the pid" "stdout: $(cat "$D/out")" grep -q "pid $FG\b" "$D/out"
	kill -KILL "$FG"
	collect "$FG" 50
	nmp status "${SA[@]}"
	code_is "$C: stale after kill -9" 1 "$RC" "stdout: $(cat "$D/out")"
	nmp stop "${SA[@]}"
	code_is "$C: stop of a stale pidfile" 0 "$RC" "$(err_note)"
	assert "$C: stale pidfile removed" "$PIDF still there" absent "$PIDF"
	[ "$ENGINE" = haproxy ] && assert "$C: config removed" "$CONF still there" absent "$CONF"
	nmp status "${SA[@]}"
	code_is "$C: not running after stop" 3 "$RC" "stdout: $(cat "$D/out")"
else
	fail "$C: start" "the proxy did not come up: $(head -c 300 "$D/run.err" | tr '\n' ' ')"
fi
end_case

# --- 4. stop of a running proxy -----------------------------------------------
newcase stop
if start_agent && start_fg; then
	nmp stop "${SA[@]}"
	code_is "$C: exits 0" 0 "$RC" "$(err_note)"
	assert "$C: process gone" "pid $FG still alive" collect "$FG" 50
	if [ "$ENGINE" = builtin ]; then
		# The built-in engine handles SIGTERM: it drains and exits 0.
		assert "$C: exits 0 on SIGTERM" "wait status '$REAPED', want 0" [ "$REAPED" = 0 ]
	else
		assert "$C: ended by SIGTERM" "wait status '$REAPED', want 143" [ "$REAPED" = 143 ]
	fi
	assert "$C: pidfile removed" "$PIDF still there" absent "$PIDF"
	[ "$ENGINE" = haproxy ] && assert "$C: config removed" "$CONF still there" absent "$CONF"
	assert "$C: port closed" "127.0.0.1:$P still accepts" eval '! accepts "$P"'
	nmp stop "${SA[@]}"
	code_is "$C: stop again exits 0" 0 "$RC" "$(err_note)"
	assert "$C: stop again says there is no pidfile" "$(err_note)" \
		grep -qF "not running: no pidfile at '$PIDF'" "$D/err"
else
	fail "$C: start" "the proxy did not come up: $(head -c 300 "$D/run.err" | tr '\n' ' ')"
fi
end_case

# --- 4b. a clean stop without `stop`: SIGTERM to the proxy --------------------
# The built-in engine removes its own pidfile: status says 3, not running.
# haproxy leaves the file with its pid: status says 1, and `stop` cleans up.
newcase sigterm
if start_agent && start_fg; then
	kill -TERM "$FG"
	assert "$C: process gone" "pid $FG still alive" collect "$FG" 50
	nmp status "${SA[@]}"
	if [ "$ENGINE" = builtin ]; then
		assert "$C: pidfile removed by the proxy" "$PIDF: '$(cat "$PIDF" 2>/dev/null)'" absent "$PIDF"
		code_is "$C: status says not running" 3 "$RC" "stdout: $(cat "$D/out")"
	else
		code_is "$C: status says dead (haproxy leaves its pidfile)" 1 "$RC" "stdout: $(cat "$D/out")"
		nmp stop "${SA[@]}"
		code_is "$C: stop cleans up" 0 "$RC" "$(err_note)"
		assert "$C: pidfile removed by stop" "$PIDF still there" absent "$PIDF"
		nmp status "${SA[@]}"
		code_is "$C: then not running" 3 "$RC" "stdout: $(cat "$D/out")"
	fi
else
	fail "$C: start" "the proxy did not come up: $(head -c 300 "$D/run.err" | tr '\n' ' ')"
fi
end_case

# The built-in engine dropped to an account that may not write the pidfile's
# directory: it empties the file, which status also reads as not running.
if [ "$ENGINE" = builtin ] && [ "$IS_ROOT" = 1 ]; then
	newcase sigterm-dropped
	chmod 0755 "$D"
	RA=(--engine "$ENGINE" --network-id "$U" --state-path "$D" --metadata-proxy-socket "$SOCK"
		--bind-address 127.0.0.1 --metadata-port "$P"
		--metadata-proxy-user nobody --metadata-proxy-group "$(id -gn nobody)")
	if start_agent && chmod 0777 "$SOCK" && start_fg; then
		kill -TERM "$FG"
		assert "$C: process gone" "pid $FG still alive" collect "$FG" 50
		assert "$C: pidfile emptied" "$PIDF: '$(cat "$PIDF" 2>/dev/null)'" no_pid_in "$PIDF"
		nmp status "${SA[@]}"
		code_is "$C: status says not running" 3 "$RC" "stdout: $(cat "$D/out")"
	else
		fail "$C: start" "the proxy did not come up: $(head -c 300 "$D/run.err" | tr '\n' ' ')"
	fi
	end_case
fi

# --- 4c. stop of a proxy still starting: 75, try again ------------------------
# A start holds the pidfile's lock before it writes its pid; stop waits 1 s
# for the pid, then says so, and signals nothing.
newcase stop-starting
mkdir -p "$(dirname "$PIDF")"
: >"$PIDF"
python3 -c '
import fcntl, os, struct, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))
print("locked", flush=True)
time.sleep(30)
' "$PIDF" >"$D/holder.out" 2>"$D/holder.err" &
HOLDER=$!
PIDS+=("$HOLDER")
if wait_until -p "$HOLDER" 50 grep -qx locked "$D/holder.out"; then
	nmp stop "${SA[@]}"
	code_is "$C: exits 75" 75 "$RC" "$(err_note)"
	assert "$C: one stderr line" "$(err_note)" one_line "$D/err"
	assert "$C: says still starting" "$(err_note)" grep -qF 'still starting; try again' "$D/err"
	assert "$C: nothing signalled" "pid $HOLDER gone" alive "$HOLDER"
	assert "$C: pidfile kept" "$PIDF gone" test -e "$PIDF"
else
	fail "$C: lock holder" "$(head -c 300 "$D/holder.err" | tr '\n' ' ')"
fi
end_case

# --- 5. stop escalates to SIGKILL after --stop-timeout ------------------------
# (bash reports the SIGKILLed job on stderr: not news here)
{
newcase stop-timeout
if start_agent && start_fg; then
	kill -STOP "$FG"
	t0=$(now_ms)
	timeout 20 "$BIN" stop "${SA[@]}" --stop-timeout 1 --debug </dev/null >"$D/out" 2>"$D/err"
	RC=$?
	el=$(($(now_ms) - t0))
	code_is "$C: exits 0" 0 "$RC" "$(err_note)"
	assert "$C: waited the timeout, then killed" "took ${el} ms, want 1000-7000" \
		eval '[ "$el" -ge 950 ] && [ "$el" -le 7000 ]'
	assert "$C: process gone" "pid $FG still alive" collect "$FG" 50
	assert "$C: ended by SIGKILL" "wait status '$REAPED', want 137" [ "$REAPED" = 137 ]
	assert "$C: says SIGKILL" "$(err_note)" grep -q 'with SIGKILL' "$D/err"
	assert "$C: pidfile removed" "$PIDF still there" absent "$PIDF"
	[ "$ENGINE" = haproxy ] && assert "$C: config removed" "$CONF still there" absent "$CONF"
else
	fail "$C: start" "the proxy did not come up: $(head -c 300 "$D/run.err" | tr '\n' ' ')"
fi
end_case
} 2> >(grep -v " Killed " >&2)

# --- 6. stop never signals an unrelated process -------------------------------
newcase unrelated-pid
sleep 300 &
SPID=$!
PIDS+=("$SPID")
mkdir -p "$D/external/pids"
echo "$SPID" >"$PIDF"
nmp status "${SA[@]}"
code_is "$C: status of a planted pidfile is stale" 1 "$RC" "stdout: $(cat "$D/out")"
nmp stop "${SA[@]}"
code_is "$C: stop of a planted pidfile" 0 "$RC" "$(err_note)"
assert "$C: planted pidfile removed" "$PIDF still there" absent "$PIDF"
assert "$C: sleep not signalled" "sleep $SPID is gone" alive "$SPID"
if start_agent && start_fg; then
	pid_ino=$(ino "$PIDF")
	echo "$SPID" >"$PIDF" # same file, same lock holder: only the text changes
	assert "$C: pidfile rewritten in place" "inode changed" [ "$(ino "$PIDF")" = "$pid_ino" ]
	nmp status "${SA[@]}"
	code_is "$C: status with a foreign pid is unknown" 4 "$RC" "stdout: $(cat "$D/out")"
	nmp stop "${SA[@]}" --stop-timeout 1
	code_is "$C: stop refuses (78)" 78 "$RC" "$(err_note)"
	assert "$C: one stderr line" "$(err_note)" one_line "$D/err"
	assert "$C: sleep still alive" "sleep $SPID was signalled" alive "$SPID"
	assert "$C: proxy still alive" "proxy $FG was signalled" alive "$FG"
	http_code "$P"; code=$CODE
	code_is "$C: proxy still serves" 200 "$code" "HTTP status"
	assert "$C: pidfile kept" "$PIDF removed" [ -f "$PIDF" ]
	# A process carrying the uuid in its command line, not holding the lock.
	python3 -c 'import time; time.sleep(300)' "impostor-$U" </dev/null >/dev/null 2>&1 &
	IPID=$!
	PIDS+=("$IPID")
	echo "$IPID" >"$PIDF"
	nmp stop "${SA[@]}" --stop-timeout 1
	code_is "$C: stop refuses an impostor carrying the uuid (78)" 78 "$RC" "$(err_note)"
	assert "$C: impostor not signalled" "impostor $IPID was signalled" alive "$IPID"
	assert "$C: proxy not signalled for the impostor" "proxy $FG was signalled" alive "$FG"
	echo "$FG" >"$PIDF"
	nmp stop "${SA[@]}"
	code_is "$C: stop with the right pid" 0 "$RC" "$(err_note)"
	assert "$C: proxy gone" "pid $FG still alive" collect "$FG" 50
	assert "$C: sleep survives it all" "sleep $SPID is gone" alive "$SPID"
else
	fail "$C: start" "the proxy did not come up: $(head -c 300 "$D/run.err" | tr '\n' ' ')"
fi
end_case

# --- 7. concurrent starts: exactly one wins -----------------------------------
newcase concurrent
if start_agent; then
	rp=()
	for i in 1 2 3 4 5; do
		timeout 15 "$BIN" run "${RA[@]}" --daemonize </dev/null >"$D/r$i.out" 2>"$D/r$i.err" &
		rp+=($!)
		PIDS+=($!)
	done
	codes=()
	for i in 0 1 2 3 4; do
		wait "${rp[$i]}"
		codes+=($?)
	done
	PIDS=("$AGENT_PID")
	n0=0
	n75=0
	for c in "${codes[@]}"; do
		[ "$c" = 0 ] && n0=$((n0 + 1))
		[ "$c" = 75 ] && n75=$((n75 + 1))
	done
	assert "$C: one run exits 0, four exit 75" "exit codes: ${codes[*]}; $(cat "$D"/r*.err | head -c 400 | tr '\n' ' ')" \
		eval '[ "$n0" = 1 ] && [ "$n75" = 4 ]'
	hp=$(proxy_pids "$U")
	assert "$C: exactly one $SERVER" "$SERVER pids for $U: '$(echo $hp)'" [ "$(echo "$hp" | grep -c .)" = 1 ]
	assert "$C: pidfile holds it" "pidfile '$(cat "$PIDF" 2>/dev/null)', $SERVER '$(echo $hp)'" \
		eval '[ -n "$hp" ] && file_has "$PIDF" "$(echo $hp)"'
	wait_port "$P" >/dev/null
	http_code "$P"; code=$CODE
	code_is "$C: it serves" 200 "$code" "HTTP status"
	nmp stop "${SA[@]}"
	code_is "$C: stop" 0 "$RC" "$(err_note)"
	for p in $hp; do wait_gone "$p" 50; done
	assert "$C: no $SERVER left" "still: $(proxy_pids "$U" | tr '\n' ' ')" [ -z "$(proxy_pids "$U")" ]
fi
end_case

# --- 8. exec hygiene: clean environment, no inherited descriptors -------------
# fd_hygiene NAME PID: environ is exactly the clean PATH; fd 3 is the
# pidfile; no descriptor reaches the marker files; fds 7 and 8 (open
# without CLOEXEC in the starting shell) are not the inherited ones; every
# fd above 3 is one haproxy made itself (socket, pipe, anon inode).
fd_hygiene() {
	local name=$1 pid=$2 f tgt bad="" foreign=""
	assert "$name: environ is only the clean PATH" \
		"environ: $(tr '\0' ' ' <"/proc/$pid/environ" 2>/dev/null)" \
		cmp -s "/proc/$pid/environ" <(printf '%s\0' "$CLEAN_ENV")
	assert "$name: fd 3 is the pidfile" "fd 3 -> '$(readlink "/proc/$pid/fd/3")'" \
		[ "$(readlink "/proc/$pid/fd/3")" = "$PIDF" ]
	for f in /proc/"$pid"/fd/*; do
		tgt=$(readlink "$f") || continue
		case $tgt in "$D/mk"*) bad+="${f##*/}->$tgt " ;; esac
		if [ "${f##*/}" -gt 3 ]; then
			case $tgt in socket:* | pipe:* | anon_inode:*) ;; *) foreign+="${f##*/}->$tgt " ;; esac
		fi
	done
	assert "$name: no fd reaches the marker files" "$bad" [ -z "$bad" ]
	for f in 7 8; do
		tgt=$(readlink "/proc/$pid/fd/$f" 2>/dev/null)
		assert "$name: fd $f is not the inherited one" "fd $f -> $tgt" \
			eval '[ "$tgt" != /dev/null ] && [ "${tgt#$D/mk}" = "$tgt" ]'
	done
	assert "$name: fds above 3 are haproxy's own" "$foreign" [ -z "$foreign" ]
}

# hostile MORE...: run with a hostile environment and leaked descriptors,
# in a background job whose pid ($!) becomes the binary, then haproxy.
hostile() {
	(
		exec 7</dev/null 8>"$D/mk8" 9<"$D/mk9"
		exec env LD_LIBRARY_PATH="$D/evil" NMP_SECRET=s3cret HAPROXY_FOO=bar \
			PATH="$D/evil:$PATH" "$BIN" run "${RA[@]}" "$@"
	) <"$D/stdin" >"$D/run.out" 2>"$D/run.err" &
}

plant_evil() {
	mkdir -p "$D/evil"
	# A haproxy on the hostile PATH, which must never run.
	printf '#!/bin/sh\ntouch %s/evil-ran\nexec sleep 300\n' "$D" >"$D/evil/haproxy"
	chmod 0755 "$D/evil/haproxy"
	: >"$D/mk9"
	: >"$D/stdin"
}

newcase hygiene-fg
if [ "$ENGINE" = builtin ]; then
	skip "$C" "$NO_EXEC"
else
plant_evil
if start_agent; then
	hostile
	FG=$!
	PIDS+=("$FG")
	if wait_port "$P" "$FG"; then
		ok "$C: started"
		assert "$C: the real haproxy" "/proc/$FG/exe is '$(readlink /proc/$FG/exe)'" \
			[ "$(readlink "/proc/$FG/exe")" = /usr/sbin/haproxy ]
		fd_hygiene "$C" "$FG"
		assert "$C: the haproxy on PATH never ran" "$D/evil-ran exists" absent "$D/evil-ran"
	else
		fail "$C: started" "port $P never accepted: $(head -c 300 "$D/run.err" | tr '\n' ' ')"
	fi
fi
fi
end_case

newcase hygiene-daemon
if [ "$ENGINE" = builtin ]; then
	skip "$C" "$NO_EXEC"
else
plant_evil
if start_agent; then
	hostile --daemonize
	RP=$!
	PIDS+=("$RP")
	collect "$RP" 100
	code_is "$C: run --daemonize exits 0" 0 "$REAPED" "run stderr: $(head -c 300 "$D/run.err" | tr '\n' ' ')"
	PIDS=("$AGENT_PID")
	HP=$(cat "$PIDF" 2>/dev/null)
	if [ -n "$HP" ] && is_server "$HP" && cmdline_has "$HP" "$U"; then
		ok "$C: pidfile names our haproxy"
		wait_port "$P" "$HP" >/dev/null
		assert "$C: the real haproxy" "/proc/$HP/exe is '$(readlink /proc/$HP/exe)'" \
			[ "$(readlink "/proc/$HP/exe")" = /usr/sbin/haproxy ]
		fd_hygiene "$C" "$HP"
		assert "$C: the haproxy on PATH never ran" "$D/evil-ran exists" absent "$D/evil-ran"
	else
		fail "$C: pidfile names our haproxy" "pidfile '$HP'"
	fi
fi
fi
end_case

# --- 9. neutron's old command line, daemonized --------------------------------
newcase neutron
if [ ! -e "$NBIN" ]; then
	# Only argv[0] matters: make the symlink the build makes.
	ln -s "$BIN" "$D/neutron-ns-metadata-proxy"
	NBIN=$D/neutron-ns-metadata-proxy
fi
mkdir -m 0755 "$D/log" # the product opens the log file, not its directory
LOG=$D/log/neutron-ns-metadata-proxy-$U.log
SA=(--router-id "$U" --state-path "$D")
# The old line, unchanged for haproxy (the default engine); the built-in
# engine is asked for.
NEXTRA=()
[ "$ENGINE" = builtin ] && NEXTRA=(--engine builtin)
if start_agent; then
	t0=$(now_ms)
	timeout 10 "$NBIN" "${NEXTRA[@]}" --pid_file="$PIDF" --metadata_proxy_socket="$SOCK" \
		--router_id="$U" --state_path="$D" --metadata_port="$P" \
		--metadata_proxy_user=0 --metadata_proxy_group=0 --debug \
		--log-file="neutron-ns-metadata-proxy-$U.log" --log-dir="$D/log" \
		--nometadata_proxy_watch_log --bind_address=127.0.0.1 \
		</dev/null >"$D/out" 2>"$D/err" &
	RP=$!
	PIDS+=("$RP")
	collect "$RP" 120
	el=$(($(now_ms) - t0))
	code_is "$C: returns 0" 0 "$REAPED" "$(err_note)"
	assert "$C: promptly" "took ${el} ms" [ "$el" -lt 5000 ]
	PIDS=("$AGENT_PID")
	HP=$(cat "$PIDF" 2>/dev/null)
	if [ -n "$HP" ] && is_server "$HP" && cmdline_has "$HP" "$U"; then
		ok "$C: pidfile names our $SERVER"
		wait_port "$P" "$HP" >/dev/null
		http_code "$P"; code=$CODE
		code_is "$C: request through the proxy" 200 "$code" "HTTP status (curl exit $CURL_RC)"
		assert "$C: agent saw the router id" "no X-Neutron-Router-ID $U in $D/rec" \
			agent_saw X-Neutron-Router-ID "$U"
		pp=$(stat_field "$HP" 4)
		sid=$(stat_field "$HP" 6)
		assert "$C: parent is not the script" "ppid $pp (script $$, run $RP)" \
			eval '[ -n "$pp" ] && [ "$pp" != $$ ] && [ "$pp" != "$RP" ]'
		assert "$C: own session" "sid $sid, script's $SCRIPT_SID" \
			eval '[ -n "$sid" ] && [ "$sid" != "$SCRIPT_SID" ]'
		assert "$C: log file exists" "$LOG missing; in $D/log: $(ls "$D/log")" [ -f "$LOG" ]
		assert "$C: log line carries the uuid" "$LOG: $(head -c 300 "$LOG" 2>/dev/null | tr '\n' ' ')" \
			grep -qF -- "$U" "$LOG"
		nmp stop "${SA[@]}"
		code_is "$C: stop" 0 "$RC" "$(err_note)"
		assert "$C: $SERVER gone" "pid $HP still alive" wait_gone "$HP" 50
		assert "$C: pidfile removed" "$PIDF still there" absent "$PIDF"
	else
		fail "$C: pidfile names our $SERVER" "pidfile '$HP' (exe '$(readlink "/proc/$HP/exe" 2>/dev/null)'); $(err_note)"
	fi
fi
end_case

# --- 9b. run --daemonize returns only once the proxy accepts ------------------
# A client connecting the instant the command returns (from the same
# process: no fork between) is queued, never refused; three starts in a
# row. haproxy alone takes several milliseconds to bind after its exec.
newcase ready-on-return
if start_agent; then
	ready=0
	for i in 1 2 3; do
		python3 - "$BIN" "$P" "${RA[@]}" >"$D/ready.out" 2>"$D/ready.err" <<'PY'
import socket, subprocess, sys
binary, port, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rc = subprocess.run([binary, "run", "--daemonize"] + args,
                    stdin=subprocess.DEVNULL).returncode
s = socket.socket()
try:
    s.connect(("127.0.0.1", port))
    print("rc %d connected" % rc)
except OSError as e:
    print("rc %d %s" % (rc, e.strerror))
PY
		if grep -qx 'rc 0 connected' "$D/ready.out"; then
			ready=$((ready + 1))
		else
			fail "$C: start $i: accepting on return" "$(cat "$D/ready.out" "$D/ready.err" | head -c 300 | tr '\n' ' ')"
		fi
		nmp stop "${SA[@]}"
		code_is "$C: start $i: stop" 0 "$RC" "$(err_note)"
	done
	assert "$C: accepting on return, 3 of 3" "$ready of 3" [ "$ready" = 3 ]
fi
end_case

# --- 10. a daemon's failure reaches the caller --------------------------------
# nothing_left NAME: no process carries the uuid, the pidfile has no pid,
# status says not running.
nothing_left() {
	wait_until 20 none_with "$U"
	assert "$1: no process left" "pids with $U: $(pgrep -f -- "$U" | tr '\n' ' ')" \
		[ "$(nprocs_with "$U")" = 0 ]
	assert "$1: pidfile holds no pid" "pidfile: '$(cat "$PIDF" 2>/dev/null)'" no_pid_in "$PIDF"
	nmp status "${SA[@]}"
	assert "$1: status not running" "status exit $RC: $(cat "$D/out")" \
		eval '[ "$RC" = 1 ] || [ "$RC" = 3 ]'
}

# A foreground exec that fails (a haproxy that is no program): exit 126,
# the error in the log file (not in the pidfile, whose descriptor number the
# log file had before the exec's rearrangement), and nothing left behind.
# Again with 16 descriptors at most, where the rearrangement must still fit.
if [ "$ENGINE" = haproxy ]; then
	for lim in unlimited 16; do
		newcase "exec-fails-fg-nofile-$lim"
		mkdir -m 0755 "$D/bin"
		printf 'not a program\n' >"$D/bin/haproxy"
		chmod 0755 "$D/bin/haproxy"
		(
			[ "$lim" = unlimited ] || ulimit -n "$lim"
			exec timeout 20 "$BIN" run "${RA[@]}" --nodaemonize --haproxy-path "$D/bin/haproxy" \
				--log-file "$D/proxy.log"
		) </dev/null >"$D/out" 2>"$D/err"
		RC=$?
		code_is "$C: exits 126" 126 "$RC" "$(err_note)"
		assert "$C: one stderr line" "$(err_note)" one_line "$D/err"
		assert "$C: the error is in the log file" "$(head -c 300 "$D/proxy.log" 2>/dev/null)" \
			grep -q 'cannot start haproxy.*Exec format error' "$D/proxy.log"
		assert "$C: no pidfile left" "$PIDF: '$(head -c 200 "$PIDF" 2>/dev/null)'" absent "$PIDF"
		assert "$C: no config left" "$CONF still there" absent "$CONF"
		nmp status "${SA[@]}"
		code_is "$C: status says not running" 3 "$RC" "stdout: $(cat "$D/out")"
		end_case
	done
fi

newcase daemon-no-haproxy
if [ "$ENGINE" = builtin ]; then
	skip "$C" "$NO_EXEC: it needs no haproxy"
else
	nmp run "${RA[@]}" --daemonize --haproxy-path /nonexistent/haproxy
	code_is "$C: exits 69" 69 "$RC" "$(err_note)"
	assert "$C: one stderr line" "$(err_note)" one_line "$D/err"
	nothing_left "$C"
fi
end_case

newcase daemon-no-netns
NS=nmp-does-not-exist-$$
nmp run "${RA[@]}" --daemonize --netns "$NS"
code_is "$C: exits 65" 65 "$RC" "$(err_note)"
assert "$C: one stderr line" "$(err_note)" one_line "$D/err"
assert "$C: stderr names the namespace" "$(err_note)" grep -qF -- "$NS" "$D/err"
nothing_left "$C"
end_case

# Both engines bind before serving (haproxy inherits the listeners): a port
# already taken (by a first proxy for another id) fails the start with 69
# naming the address, and leaves the first proxy alone.
newcase daemon-port-busy
if start_agent && start_fg; then
	U1=$U FG1=$FG SA1=("${SA[@]}")
	U=$(cat /proc/sys/kernel/random/uuid)
	UUIDS+=("$U")
	PIDF=$D/external/pids/$U.pid
	RA=(--engine "$ENGINE" --network-id "$U" --state-path "$D" --metadata-proxy-socket "$SOCK"
		--bind-address 127.0.0.1 --metadata-port "$P"
		--metadata-proxy-user "$RUN_USER" --metadata-proxy-group "$RUN_GROUP")
	SA=(--network-id "$U" --state-path "$D")
	t0=$(now_ms)
	nmp run "${RA[@]}" --daemonize
	el=$(($(now_ms) - t0))
	code_is "$C: exits 69" 69 "$RC" "$(err_note)"
	assert "$C: promptly" "took ${el} ms" [ "$el" -lt 5000 ]
	assert "$C: one stderr line" "$(err_note)" one_line "$D/err"
	assert "$C: stderr says the address is in use" "$(err_note)" \
		grep -q "binding the listeners on 127.0.0.1 port $P: Address already in use" "$D/err"
	assert "$C: stderr names the id" "$(err_note)" grep -qF -- "$U" "$D/err"
	nothing_left "$C"
	assert "$C: pidfile removed" "$PIDF: '$(cat "$PIDF" 2>/dev/null)'" absent "$PIDF"
	assert "$C: first proxy still alive" "pid $FG1 gone" alive "$FG1"
	http_code "$P"; code=$CODE
	code_is "$C: first proxy still serves" 200 "$code" "HTTP status (curl exit $CURL_RC)"
	assert "$C: agent saw the first id only" "$(grep -ciF -- "$U" "$D/rec" 2>/dev/null) records of $U" \
		eval 'agent_saw X-Neutron-Network-ID "$U1" && ! grep -qiF -- "$U" "$D/rec"'
	nmp stop "${SA1[@]}"
	code_is "$C: stop the first" 0 "$RC" "$(err_note)"
	assert "$C: first proxy gone" "pid $FG1 still alive" collect "$FG1" 50
else
	fail "$C: first start" "the proxy did not come up: $(head -c 300 "$D/run.err" | tr '\n' ' ')"
fi
end_case

# --- 11. --netns: serving inside a network namespace --------------------------
newcase netns
NS=nmp-test-$$
if [ "$IS_ROOT" != 1 ]; then
	skip "$C" "needs root to create a network namespace"
elif ! command -v ip >/dev/null || ! ip netns add "$NS" 2>"$D/ns.err"; then
	skip "$C" "ip netns add failed: $(head -c 200 "$D/ns.err" 2>/dev/null | tr '\n' ' ')"
else
	NETNSES+=("$NS")
	ip -n "$NS" link set lo up
	if start_agent; then
		"$BIN" run "${RA[@]}" --netns "$NS" </dev/null >"$D/run.out" 2>"$D/run.err" &
		FG=$!
		PIDS+=("$FG")
		if wait_port "$P" "$FG" "$NS"; then
			ok "$C: port accepts inside the namespace"
			http_code "$P" "$NS"; code=$CODE
			code_is "$C: request inside the namespace" 200 "$code" "HTTP status (curl exit $CURL_RC)"
			assert "$C: agent saw the network id" "no X-Neutron-Network-ID $U in $D/rec" \
				agent_saw X-Neutron-Network-ID "$U"
			http_code "$P"; code=$CODE
			assert "$C: not reachable from the host" "host request: status $code, curl exit $CURL_RC (want 7: refused)" \
				[ "$CURL_RC" = 7 ]
			assert "$C: $SERVER in another namespace" "net ns $(readlink "/proc/$FG/ns/net") vs script's $(readlink /proc/$$/ns/net)" \
				[ "$(readlink "/proc/$FG/ns/net")" != "$(readlink /proc/$$/ns/net)" ]
			assert "$C: $SERVER in the named namespace" "ino of /run/netns/$NS $(stat -L -c %i "/run/netns/$NS") vs $(stat -L -c %i "/proc/$FG/ns/net")" \
				[ "$(stat -L -c %i "/run/netns/$NS")" = "$(stat -L -c %i "/proc/$FG/ns/net")" ]
			assert "$C: pidfile holds the started pid" "pidfile '$(cat "$PIDF" 2>/dev/null)'" file_has "$PIDF" "$FG"
			nmp stop "${SA[@]}"
			code_is "$C: stop" 0 "$RC" "$(err_note)"
			assert "$C: process gone" "pid $FG still alive" collect "$FG" 50
		else
			fail "$C: port accepts inside the namespace" "port $P never accepted: $(head -c 300 "$D/run.err" | tr '\n' ' ')"
		fi
	fi
fi
end_case

# --- 12. the built-in engine drops privileges after binding -------------------
# Started as root for nobody:nogroup, the proxy runs with every uid and gid
# field of /proc/PID/status that user's, no supplementary groups and no
# capabilities, and still reaches the agent socket (a 0755 directory, the
# socket 0666) and serves.
# status_line PID FIELD: the values of FIELD in /proc/PID/status, one space
# apart.
status_line() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null | tr -s '\t ' ' ' | sed 's/ $//'; }
if [ "$ENGINE" = builtin ]; then
	newcase privilege-drop
	if [ "$IS_ROOT" != 1 ]; then
		skip "$C" "needs root to drop privileges"
	elif ! NUID=$(id -u nobody 2>/dev/null) || ! NGID=$(getent group nogroup | cut -d: -f3) || [ -z "$NGID" ]; then
		skip "$C" "no user nobody or group nogroup"
	else
		chmod 0755 "$D"
		mkdir -m 0755 "$D/sock"
		SOCK=$D/sock/a.sock
		RA=(--engine "$ENGINE" --network-id "$U" --state-path "$D" --metadata-proxy-socket "$SOCK"
			--bind-address 127.0.0.1 --metadata-port "$P"
			--metadata-proxy-user nobody --metadata-proxy-group nogroup)
		if start_agent && start_fg; then
			ok "$C: started"
			assert "$C: the started pid is the binary" "/proc/$FG/exe is '$(readlink /proc/$FG/exe)'" \
				is_server "$FG"
			assert "$C: pidfile holds the started pid" "pidfile '$(cat "$PIDF" 2>/dev/null)'" file_has "$PIDF" "$FG"
			want="$NUID $NUID $NUID $NUID"
			assert "$C: Uid is $NUID in all four fields" "Uid: $(status_line "$FG" Uid)" \
				[ "$(status_line "$FG" Uid)" = "$want" ]
			want="$NGID $NGID $NGID $NGID"
			assert "$C: Gid is $NGID in all four fields" "Gid: $(status_line "$FG" Gid)" \
				[ "$(status_line "$FG" Gid)" = "$want" ]
			assert "$C: no supplementary groups" "Groups: $(status_line "$FG" Groups)" \
				eval '[ -z "$(status_line "$FG" Groups)" ] || [ "$(status_line "$FG" Groups)" = "$NGID" ]'
			assert "$C: no effective or permitted capabilities" "CapEff $(status_line "$FG" CapEff) CapPrm $(status_line "$FG" CapPrm)" \
				eval '[ "$(status_line "$FG" CapEff)" = 0000000000000000 ] && [ "$(status_line "$FG" CapPrm)" = 0000000000000000 ]'
			http_code "$P"; code=$CODE
			code_is "$C: request through the proxy" 200 "$code" "HTTP status (curl exit $CURL_RC)"
			assert "$C: agent saw the network id" "no X-Neutron-Network-ID $U in $D/rec" \
				agent_saw X-Neutron-Network-ID "$U"
			nmp status "${SA[@]}"
			code_is "$C: status running" 0 "$RC" "stdout: $(cat "$D/out")"
			nmp stop "${SA[@]}"
			code_is "$C: stop" 0 "$RC" "$(err_note)"
			assert "$C: process gone" "pid $FG still alive" collect "$FG" 50
			assert "$C: pidfile removed" "$PIDF still there" absent "$PIDF"
		else
			fail "$C: started" "the proxy did not come up: $(head -c 300 "$D/run.err" | tr '\n' ' ')"
		fi
	fi
	end_case
fi

finish
