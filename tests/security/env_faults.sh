#!/bin/bash
# Faults: a hostile environment or argument around the launcher.
#   - --netns naming a FIFO (an open would wait for a writer forever), a
#     regular file, or a namespace of another type (UTS): run exits 65 with
#     one line naming --netns, the path and "not a network namespace", at
#     once, with either engine, in the foreground and daemonized; nothing
#     is left (no config, no pidfile, no process). A real network namespace
#     still works. These cases run in a private mount namespace with a
#     tmpfs of our own on /run/netns (or /run): the host's namespace
#     directory is never touched;
#   - a file size limit (ulimit -f) below the config's size: run exits 73
#     naming the config and "File too large" instead of dying of SIGXFSZ,
#     the previous config is intact, no temporary is left, haproxy does not
#     run; the built-in engine, whose only write is the pidfile, fails
#     under ulimit -f 0 with 73 (EX_CANTCREAT, as the config's write) and
#     one line naming the step and "File too large" instead of dying or
#     saying 71, in the foreground and daemonized (where the daemon reports
#     the failure to its parent), and leaves no pidfile nor anything else;
#   - render with stdout at /dev/full or closed: exit 74, one line (a
#     closed stdout must not pass for an empty one); --help and --version
#     likewise;
#   - the foreground haproxy and the foreground built-in engine run in "/",
#     not in the caller's working directory.
# The namespace cases need root and unshare; otherwise they are skipped.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Enter a private mount namespace once, by running this script again in it.
if [ -z "${NMP_ENV_FAULTS_NS:-}" ] && [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
	if unshare -m --propagation private true 2>/dev/null; then
		NMP_ENV_FAULTS_NS=1 exec unshare -m --propagation private -- bash "$0" "$@"
	fi
	NMP_ENV_FAULTS_NS=no
fi

. "$HERE/fs_lib.sh"

HAPROXY=/usr/sbin/haproxy
STARTED=()
stop_started() {
	local p
	for p in "${STARTED[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
}
at_exit stop_started

# forget_leftovers DIR: a launcher that hung (a build without the fixes)
# may have left a daemon behind, carrying DIR in its command line: record
# its pid so that the exit stops it.
forget_leftovers() {
	local p
	for p in $(procs_with "$1"); do
		STARTED+=("$p")
	done
}

# runq SECONDS ARGS...: runb with a shorter bound (a hang is the bug).
runq() {
	local t=$1
	shift
	LAST_CMD="$(quote_cmd "$BIN" "$@")"
	timeout "$t" "$BIN" "$@" </dev/null >"$T/out" 2>"$T/err"
	RC=$?
}

# --- --netns naming something that is no network namespace -------------------
netns_cases() {
	local nsdir=/run/netns name kind engine daemon before tag
	if [ "$IS_ROOT" -ne 1 ] || [ "${NMP_ENV_FAULTS_NS:-}" != 1 ]; then
		skip "--netns not a network namespace" "needs root and unshare -m"
		return 0
	fi
	mount --make-rprivate / 2>/dev/null
	# A tmpfs of ours: on /run/netns when it exists, else on /run (making
	# /run/netns would touch the host's /run).
	if [ -d "$nsdir" ]; then
		mount -t tmpfs -o mode=0755,size=1m nmp-netns "$nsdir" 2>"$T/mount.err"
	else
		mount -t tmpfs -o mode=0755,size=1m nmp-run /run 2>"$T/mount.err" &&
			mkdir -m 0755 "$nsdir"
	fi
	if [ $? -ne 0 ]; then
		skip "--netns not a network namespace" "cannot mount a tmpfs: $(escape_file "$T/mount.err" 200)"
		return 0
	fi
	NS_FIFO=nmp-fifo-$$
	NS_FILE=nmp-file-$$
	NS_UTS=nmp-uts-$$
	NS_NET=nmp-net-$$
	mkfifo -m 0600 "$nsdir/$NS_FIFO"
	: >"$nsdir/$NS_FILE"
	: >"$nsdir/$NS_UTS"
	: >"$nsdir/$NS_NET"
	at_exit "umount -l $nsdir/$NS_UTS; umount -l $nsdir/$NS_NET; rm -f $nsdir/$NS_FIFO $nsdir/$NS_FILE $nsdir/$NS_UTS $nsdir/$NS_NET"
	if ! unshare --uts="$nsdir/$NS_UTS" true 2>"$T/ns.err" ||
		! unshare --net="$nsdir/$NS_NET" true 2>>"$T/ns.err"; then
		skip "--netns not a network namespace" "cannot make namespaces: $(escape_file "$T/ns.err" 200)"
		return 0
	fi

	for name in "$NS_FIFO" "$NS_FILE" "$NS_UTS"; do
		case $name in
		"$NS_FIFO") kind=fifo ;;
		"$NS_FILE") kind=file ;;
		*) kind=uts ;;
		esac
		for engine in haproxy builtin; do
			for daemon in --nodaemonize --daemonize; do
				tag="netns $kind $engine ${daemon#--}"
				fs_state "$T/ns-$kind-$engine-${daemon#--}/state"
				PIDF=${S%/state}/p.pid
				mkdir -p -m 0755 "$S"
				before=$(snapshot_content "$S")
				rm -f "$FAKE_REC"
				pick_port
				runq 10 run "${O[@]}" --engine "$engine" "$daemon" --netns "$name" \
					--pid-file "$PIDF" --bind-address 127.0.0.1 --metadata-port "$PORT"
				forget_leftovers "$S"
				refused "$tag" 65 "--netns '$name'" "'$nsdir/$name'" "not a network namespace"
				not_run "$tag"
				same_snapshot "$tag: state path as before" "$before" "$S" snapshot_content
				assert "$tag: no pidfile left" "'$PIDF' is there" [ ! -e "$PIDF" ]
				no_process_with "$tag" "$S"
			done
		done
	done

	# Control: a real network namespace is entered (the built-in engine
	# serving from it; its loopback is down, so the wildcard address).
	CASE="netns real"
	fs_state "$T/ns-real/state"
	mkdir -p -m 0755 "$S" "$T/ns-real/cwd"
	pick_port
	(cd "$T/ns-real/cwd" && exec "$BIN" run "${O[@]}" --engine builtin --netns "$NS_NET" \
		--bind-address 0.0.0.0 --metadata-port "$PORT" --pid-file "$T/ns-real/p.pid") \
		</dev/null >"$T/ns-real/out" 2>"$T/ns-real/err" &
	local pid=$!
	STARTED+=("$pid")
	if wait_until -p "$pid" "$WAIT_MAX" eval '[ "$(cat "$T/ns-real/p.pid" 2>/dev/null)" = "$pid" ]'; then
		check "$CASE: in the namespace" "$(readlink "/proc/$pid/ns/net")" \
			"net:[$(stat -L -c %i "$nsdir/$NS_NET")]"
		check "$CASE: working directory" "$(readlink "/proc/$pid/cwd")" /
	else
		fail "$CASE: started" "no pid in the pidfile: $(escape_file "$T/ns-real/err" 300)"
	fi
	kill -TERM "$pid" 2>/dev/null
	reap "$pid"
}

# --- a file size limit below the config -----------------------------------
fsize_cases() {
	local daemon tag rc
	for daemon in --nodaemonize --daemonize; do
		tag="ulimit -f haproxy ${daemon#--}"
		fs_state "$T/fsize-${daemon#--}/state"
		mkdir -p -m 0755 "$S" "$T/fsize-${daemon#--}/pids"
		PIDF=$T/fsize-${daemon#--}/pids/$ID.pid
		O+=(--pid-file "$PIDF" --bind-address 127.0.0.1)
		pick_port
		runf run "${O[@]}" --metadata-port "$PORT"
		if [ "$RC" -ne 0 ] || [ ! -f "$C" ]; then
			fail "$tag: setup run" "exit $RC$(stderr_note)"
			continue
		fi
		rm -f "$PIDF" # the stand-in exited: stale
		cp "$C" "$T/old"
		if [ "$(stat -c %s "$C")" -le 1024 ]; then
			fail "$tag: setup" "the config is only $(stat -c %s "$C") bytes: no limit to hit"
			continue
		fi
		rm -f "$FAKE_REC"
		pick_port # another port: another config
		LAST_CMD="ulimit -f 1; $(quote_cmd "$BIN" run "${O[@]}" --metadata-port "$PORT" "$daemon")"
		(
			ulimit -f 1
			exec timeout 20 "$BIN" run "${O[@]}" --metadata-port "$PORT" "$daemon"
		) </dev/null >"$T/out" 2>"$T/err"
		RC=$?
		refused "$tag" 73 "cannot write config '$C'" "File too large"
		not_run "$tag"
		assert "$tag: previous config intact" "it changed" cmp -s "$C" "$T/old"
		check "$tag: no temporary left" "$(temps_of "$D" "$ID.conf" | tr '\n' ' ')" ""
		assert "$tag: no pidfile left" "'$PIDF' is there" [ ! -e "$PIDF" ]
	done

	# The built-in engine writes no config: its pidfile is what hits the
	# limit. Its stderr goes through a pipe (a file would hit it too).
	for daemon in --nodaemonize --daemonize; do
		tag="ulimit -f builtin ${daemon#--}"
		fs_state "$T/fsize-builtin-${daemon#--}/state"
		mkdir -p -m 0755 "$S"
		PIDF=$T/fsize-builtin-${daemon#--}/b.pid
		pick_port
		LAST_CMD="ulimit -f 0; $(quote_cmd "$BIN" run "${O[@]}" --engine builtin "$daemon")"
		(
			ulimit -f 0
			exec timeout 20 "$BIN" run "${O[@]}" --engine builtin "$daemon" \
				--pid-file "$PIDF" --bind-address 127.0.0.1 --metadata-port "$PORT" 2>&1 >"$T/out"
		) </dev/null | cat >"$T/err"
		RC=${PIPESTATUS[0]}
		forget_leftovers "$S"
		refused "$tag" 73 "cannot start the built-in engine for $ID: writing the pidfile: File too large"
		assert "$tag: no pidfile left" "'$PIDF' is there" [ ! -e "$PIDF" ]
		# Nor a temporary, nor a log: only the (empty) state dir.
		check "$tag: nothing left beside the state" \
			"$(cd "$T/fsize-builtin-${daemon#--}" && find . -mindepth 1 | sort | tr '\n' ' ')" "./state "
		no_process_with "$tag" "$S"
	done
}

# --- render to a full or closed stdout -------------------------------------
render_cases() {
	fs_state "$T/render/state"
	RO=(--network-id "$ID" --metadata-proxy-user "$NMP_USER" --metadata-proxy-group "$NMP_GROUP")
	runb render "${RO[@]}"
	expect_code "render: control" 0 "$RC"
	assert "render: control prints the config" "stdout is empty" [ -s "$T/out" ]

	LAST_CMD="$(quote_cmd "$BIN" render "${RO[@]}") >/dev/full"
	timeout 20 "$BIN" render "${RO[@]}" </dev/null >/dev/full 2>"$T/err"
	RC=$?
	: >"$T/out"
	refused "render >/dev/full" 74 "standard output" "No space left on device"

	LAST_CMD="$(quote_cmd "$BIN" render "${RO[@]}") >&-"
	timeout 20 "$BIN" render "${RO[@]}" </dev/null >&- 2>"$T/err"
	RC=$?
	: >"$T/out"
	refused "render >&-" 74 "standard output" "Bad file descriptor"

	for a in --help --version; do
		LAST_CMD="$(quote_cmd "$BIN" "$a") >&-"
		timeout 20 "$BIN" "$a" </dev/null >&- 2>"$T/err"
		RC=$?
		: >"$T/out"
		refused "$a >&-" 74 "standard output"
	done
}

# --- the foreground proxy's working directory ------------------------------
cwd_case() {
	local engine=$1 pid dir
	CASE="cwd $engine"
	dir=$T/cwd-$engine
	mkdir -m 0755 "$dir" "$dir/here"
	pick_port
	PIDF=$dir/p.pid
	(cd "$dir/here" && exec "$BIN" run --engine "$engine" --network-id "$ID" --state-path "$dir" \
		--metadata-proxy-socket "$dir/agent.sock" --bind-address 127.0.0.1 --metadata-port "$PORT" \
		--haproxy-path "$HAPROXY" --pid-file "$PIDF" \
		--metadata-proxy-user "$NMP_USER" --metadata-proxy-group "$NMP_GROUP") \
		</dev/null >"$dir/out" 2>"$dir/err" &
	pid=$!
	STARTED+=("$pid")
	if wait_until -p "$pid" "$WAIT_MAX" eval 'listens "$PORT" && [ "$(cat "$PIDF" 2>/dev/null)" = "$pid" ]'; then
		check "$CASE: the proxy runs in /" "$(readlink "/proc/$pid/cwd")" /
		if [ "$engine" = haproxy ]; then
			check "$CASE: it is haproxy" "$(readlink "/proc/$pid/exe")" "$HAPROXY"
		fi
	else
		fail "$CASE: started" "port $PORT, pidfile '$(cat "$PIDF" 2>/dev/null)': $(escape_file "$dir/err" 300)"
	fi
	runb stop --network-id "$ID" --state-path "$dir" --pid-file "$PIDF"
	expect_code "$CASE: stop" 0 "$RC"
	reap "$pid"
}

netns_cases
fsize_cases
render_cases
if [ -x "$HAPROXY" ]; then
	cwd_case haproxy
else
	skip "cwd haproxy" "no haproxy at $HAPROXY"
fi
cwd_case builtin

finish
