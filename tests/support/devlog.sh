#!/bin/bash
# Run a command on a node-like machine: with a listening /dev/log.
#
#   bash tests/support/devlog.sh CMD [ARGS...]
#
# On a real network node /dev/log is a listening syslog socket (journald or
# rsyslog), and a daemon that logs through syslog(3) behaves differently
# there: libc holds a connected socket, a descriptor that closing loops,
# fd reuse and privilege drops can break. A test machine often has no
# /dev/log at all, so syslog(3) silently does nothing and such bugs hide.
#
# CMD runs in a private mount namespace (unshare --mount --propagation
# private) whose /dev is a fresh tmpfs: the device nodes the tests use bound
# from the real /dev (null, zero, full, random, urandom, tty, net/tun, and
# the pts, shm, mqueue and hugepages mounts where present), the usual
# symlinks (ptmx, fd, stdin, stdout, stderr, core), and /dev/log served by
# syslog_listener.py. The new /dev is built in a temporary directory and
# moved over /dev inside the namespace only: the machine's own /dev, and its
# /dev/log if it has one, are never touched, and every mount goes away with
# the namespace. `ip netns exec` copies the caller's mount namespace, so
# /dev/log stays the same socket inside network namespaces.
#
# CMD also runs in a network namespace of its own with its loopback up
# (unless the kernel refuses one: then it says so and shares the
# machine's), so the ports one test binds never meet another test's.
#
# CMD gets NMP_SYSLOG_OUT, the file where every datagram sent to /dev/log
# arrives as one line ("<PRI>Mon DD HH:MM:SS TAG[PID]: message"). It is in
# a temporary directory removed at the end, unless the caller set
# NMP_SYSLOG_OUT: then that file is used (appended to) and kept.
#
# Where this cannot be done (not root, unshare or a mount refused), one line
# "devlog: no private /dev/log: REASON" goes to stderr and CMD runs as it
# is, without NMP_SYSLOG_OUT, so a test that needs it can skip and say why.
#
# Exits with CMD's exit code. Signals (TERM, INT, HUP) are passed on to CMD;
# the listener is stopped by its pid at the end.
set -u

SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
LISTENER=$(dirname "$SELF")/syslog_listener.py

# Device nodes bound from the real /dev when present (the first six always
# are on Linux), and the directories that are mounts of their own there.
NODES=(null zero full random urandom tty net/tun)
MOUNTS=(pts shm mqueue hugepages)

# run_fwd CMD...: run CMD as a child with our stdin (a background job of a
# non-interactive shell would get /dev/null), pass TERM, INT and HUP on to
# it, wait for it; its exit status in RC.
run_fwd() {
	local child in sig
	exec {in}<&0
	(
		exec 0<&"$in" {in}<&-
		exec "$@"
	) &
	child=$!
	exec {in}<&-
	for sig in TERM INT HUP; do
		# shellcheck disable=SC2064 # the pid is meant to be expanded now
		trap "kill -$sig $child 2>/dev/null" "$sig"
	done
	# wait returns early (>128) when a trapped signal arrives: wait again
	# until the child itself has ended.
	while :; do
		wait "$child"
		RC=$?
		kill -0 "$child" 2>/dev/null || break
	done
	trap - TERM INT HUP
}

# refuse REASON CMD...: say why there is no private /dev/log, then run CMD
# without it and exit with its code.
refuse() {
	echo "devlog: no private /dev/log: $1" >&2
	shift
	unset NMP_SYSLOG_OUT
	run_fwd "$@"
	exit "$RC"
}

# first_line FILE: a file's first line, for a reason (tools are wordy).
first_line() {
	head -n 1 "$1" 2>/dev/null | tr -d '\r'
}

# --- inside the namespace ----------------------------------------------------
# devlog.sh --inner WORK OUT CMD...: WORK is our temporary directory, OUT
# the syslog file.
inner() {
	local work=$1 out=$2 new n dev_id lpid i
	shift 2
	# In a network namespace of our own, loopback starts down.
	ip link set lo up 2>/dev/null
	new=$work/dev
	# The tmpfs is mounted in this namespace only (its propagation is
	# private): the directory stays empty for everyone else.
	if ! mount -t tmpfs -o mode=0755,nosuid,size=1m nmp-devlog "$new" 2>"$work/err"; then
		refuse "mounting a tmpfs: $(first_line "$work/err")" "$@"
	fi
	dev_id=$(stat -c %d "$new")
	for n in "${NODES[@]}"; do
		[ -c "/dev/$n" ] || continue
		mkdir -p "$(dirname "$new/$n")"
		# A bind mount needs a file to cover; the node itself is the real one.
		: >"$new/$n"
		if ! mount --bind "/dev/$n" "$new/$n" 2>"$work/err"; then
			refuse "binding /dev/$n: $(first_line "$work/err")" "$@"
		fi
	done
	for n in "${MOUNTS[@]}"; do
		mountpoint -q "/dev/$n" 2>/dev/null || continue
		mkdir -p "$new/$n"
		if ! mount --rbind "/dev/$n" "$new/$n" 2>"$work/err"; then
			refuse "binding /dev/$n: $(first_line "$work/err")" "$@"
		fi
	done
	ln -s pts/ptmx "$new/ptmx"
	ln -s /proc/self/fd "$new/fd"
	ln -s /proc/self/fd/0 "$new/stdin"
	ln -s /proc/self/fd/1 "$new/stdout"
	ln -s /proc/self/fd/2 "$new/stderr"
	ln -s /proc/kcore "$new/core"
	if ! mount --move "$new" /dev 2>"$work/err"; then
		refuse "moving the new /dev over /dev: $(first_line "$work/err")" "$@"
	fi
	# Only ever bind /dev/log on our own tmpfs.
	if [ "$(stat -c %d /dev)" != "$dev_id" ]; then
		refuse "/dev is not the new tmpfs after the move" "$@"
	fi

	python3 "$LISTENER" --socket /dev/log --output "$out" \
		</dev/null >"$work/listener.out" 2>"$work/listener.err" &
	lpid=$!
	# Up to 30 s: python's start alone takes seconds on a loaded machine.
	for ((i = 0; i < 300; i++)); do
		grep -qx ready "$work/listener.out" 2>/dev/null && break
		kill -0 "$lpid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -qx ready "$work/listener.out" 2>/dev/null || [ ! -S /dev/log ]; then
		kill -TERM "$lpid" 2>/dev/null
		wait "$lpid" 2>/dev/null
		refuse "the syslog listener did not start: $(first_line "$work/listener.err")" "$@"
	fi

	export NMP_SYSLOG_OUT=$out
	run_fwd "$@"

	# Stop the listener by its pid; it removes /dev/log. SIGKILL after 5 s.
	kill -TERM "$lpid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$lpid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$lpid" 2>/dev/null
	wait "$lpid" 2>/dev/null
	exit "$RC"
}

if [ "${1:-}" = --inner ]; then
	shift
	inner "$@"
fi

# --- outside: check we may, make the temporary directory, enter ----------------

if [ $# -lt 1 ]; then
	echo "usage: bash $0 CMD [ARGS...]" >&2
	exit 2
fi

if [ "$(id -u)" != 0 ]; then
	refuse "not root (mounting a private /dev needs CAP_SYS_ADMIN)" "$@"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nmp-devlog.XXXXXX") || refuse "cannot create a temporary directory" "$@"
# Removed whatever happens; the namespace's mounts went with its last process,
# and outside it WORK/dev was never more than an empty directory.
trap 'rm -rf -- "$WORK"' EXIT
mkdir "$WORK/dev"

OUT=${NMP_SYSLOG_OUT:-$WORK/syslog.out}
if ! : >>"$OUT" 2>"$WORK/err"; then
	refuse "cannot write the syslog file '$OUT': $(first_line "$WORK/err")" "$@"
fi

# The kernel may refuse a mount namespace (a container without
# CAP_SYS_ADMIN, seccomp): find out before CMD runs, so its exit code is
# never confused with unshare's.
if ! unshare --mount --propagation private true 2>"$WORK/err"; then
	refuse "unshare --mount: $(first_line "$WORK/err")" "$@"
fi
# A network namespace of its own too, with its loopback up: ports a test
# binds (the default 9697 among them, with a stand-in haproxy) are its
# own, so tests run side by side never find each other's listeners. Where
# the kernel refuses one, the test shares the machine's, as before.
NET=(--net)
if ! unshare --mount --net --propagation private true 2>"$WORK/err"; then
	echo "devlog: no private network namespace: $(first_line "$WORK/err")" >&2
	NET=()
fi

run_fwd unshare --mount "${NET[@]}" --propagation private -- \
	bash "$SELF" --inner "$WORK" "$OUT" "$@"
exit "$RC"
