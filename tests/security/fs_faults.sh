#!/bin/bash
# Faults: the file system fills up or turns read-only under the launcher
# (CWE-703: the original tolerated ENOENT and nothing else). With real
# file systems, in a private mount namespace (unshare -m, every mount
# private) so nothing leaks to the host and everything goes when the
# namespace does:
#   - disk full (a 64 KiB tmpfs, filled to the last page) while writing:
#     run exits 73 naming the config and "No space left on device", the
#     previous config is intact byte for byte, no temporary is left, haproxy
#     does not run, the pidfile is gone again; cleanup still works (unlink
#     frees space);
#   - read-only (a read-only bind mount of the state dir, and a tmpfs
#     remounted read-only) while writing: 73 naming the config (or the
#     pidfile when that lives there too) and "Read-only file system"; while
#     removing: cleanup and stop exit 74, the config stays.
# Needs root and unshare -m; otherwise each case is skipped with the
# reason.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Enter a private mount namespace once, by running this script again in it.
if [ -z "${NMP_FS_FAULTS_NS:-}" ] && [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
	if unshare -m --propagation private true 2>/dev/null; then
		NMP_FS_FAULTS_NS=1 exec unshare -m --propagation private -- bash "$0" "$@"
	fi
	NMP_FS_FAULTS_NS=no
fi

. "$HERE/fs_lib.sh"

if [ "$IS_ROOT" -ne 1 ]; then
	skip "disk full and read-only faults" "not root: cannot mount"
	finish
fi
if [ "${NMP_FS_FAULTS_NS:-}" != 1 ]; then
	skip "disk full and read-only faults" "unshare -m is not permitted here"
	finish
fi
# Belt and braces: nothing mounted here propagates anywhere.
mount --make-rprivate / 2>/dev/null

MOUNTS=()
at_exit 'for m in "${MOUNTS[@]}"; do umount -l "$m"; done'
# mnt ARGS... TARGET: mount, remember TARGET for the exit; false on failure.
mnt() {
	local target=${*: -1}
	if mount "$@" 2>"$T/mount.err"; then
		MOUNTS=("$target" "${MOUNTS[@]}")
		return 0
	fi
	return 1
}

CONFNAME=$ID.conf
# newcase NAME DIR: state S=DIR/state, a previous config written by a real
# run (so it is exactly what the launcher writes), pidfile PIDF outside
# unless PIDF_INSIDE=1; OLD is a copy of the config.
newcase() {
	CASE=$1
	fs_state "$2/state"
	mkdir -p "$S"
	chmod 0755 "$S"
	if [ "${PIDF_INSIDE:-0}" != 1 ]; then
		mkdir -p -m 0755 "$T/pids-$1"
		PIDF=$T/pids-$1/$ID.pid
	fi
	O+=(--pid-file "$PIDF")
	runf run "${O[@]}"
	if [ "$RC" -ne 0 ] || [ ! -f "$C" ]; then
		fail "$1: setup run" "exit $RC$(stderr_note)"
		return 1
	fi
	# The stand-in exited: its pidfile is stale. Gone, so that a refused
	# run is seen to remove the one it made.
	rm -f "$PIDF"
	cp "$C" "$T/old-$1"
	OLD=$T/old-$1
	# A new config differs from the old one (another port).
	NEW=(--metadata-port 9699)
	return 0
}

# write_refused NAME CODE NEEDLE...: run with a new config was refused and
# left the old config, no temporary, no pidfile, no haproxy.
write_refused() {
	local name=$1 code=$2
	shift 2
	runf run "${O[@]}" "${NEW[@]}"
	refused "$name" "$code" "$@"
	not_run "$name"
	assert "$name: old config intact" "config differs from the old one" cmp -s "$OLD" "$C"
	assert "$name: no temporary left" "$(temps_of "$D" "$CONFNAME" | tr '\n' ' ')" \
		[ -z "$(temps_of "$D" "$CONFNAME")" ]
	assert "$name: pidfile gone" "left: $PIDF" [ ! -e "$PIDF" ]
}

# --- disk full while writing ---------------------------------------------
F=$T/full
mkdir -m 0755 "$F"
if ! mnt -t tmpfs -o size=64k,mode=0755 nmp-full "$F"; then
	skip "disk full" "cannot mount a tmpfs: $(escape_file "$T/mount.err" 200)"
elif newcase full "$F"; then
	# Fill it to the last page.
	dd if=/dev/zero of="$F/filler" bs=4k count=64 2>/dev/null
	head -c 4096 /dev/zero >>"$F/filler" 2>/dev/null
	avail=$(df --output=avail -B1 "$F" | tail -n 1 | tr -d ' ')
	assert "disk full: the tmpfs is full" "$avail bytes available" [ "$avail" -eq 0 ]
	write_refused "disk full: run" 73 "$C" "No space left on device"
	# Twice more: a failed write leaves nothing that makes the next worse.
	write_refused "disk full: run again" 73 "$C" "No space left on device"
	# Removing needs no space.
	runb cleanup "${O[@]}"
	expect_code "disk full: cleanup" 0 "$RC"
	assert "disk full: cleanup removed the config" "still there" [ ! -e "$C" ]
	# With room again the same run succeeds.
	rm -f "$F/filler"
	runf run "${O[@]}" "${NEW[@]}"
	expect_code "disk full, then room: run" 0 "$RC"
	assert "disk full, then room: the new config" "no port 9699" grep -q ':9699$' "$C"
fi

# --- read-only bind mount of the state dir ---------------------------------
B=$T/bind
mkdir -m 0755 "$B"
if newcase ro-bind "$B"; then
	if ! mnt --bind "$S" "$S" || ! mount -o remount,bind,ro "$S" 2>"$T/mount.err"; then
		skip "read-only bind mount" "cannot bind-mount read-only: $(escape_file "$T/mount.err" 200)"
	else
		assert "read-only bind mount: is read-only" "touch worked" \
			eval '! touch "$S/probe" 2>/dev/null'
		write_refused "read-only bind mount: run" 73 "$C" "Read-only file system"
		before=$(snapshot "$S")
		for cmd in cleanup stop; do
			runb "$cmd" "${O[@]}"
			refused "read-only bind mount: $cmd" 74 "$C" "Read-only file system"
			same_snapshot "read-only bind mount: $cmd removes nothing" "$before" "$S"
		done
		assert "read-only bind mount: old config intact" "differs" cmp -s "$OLD" "$C"
	fi
fi

# The pidfile on the same read-only file system: the lock step fails first.
B2=$T/bind2
mkdir -m 0755 "$B2"
if PIDF_INSIDE=1 newcase ro-bind-pid "$B2"; then
	if ! mnt --bind "$S" "$S" || ! mount -o remount,bind,ro "$S" 2>"$T/mount.err"; then
		skip "read-only bind mount, pidfile inside" "cannot bind-mount read-only: $(escape_file "$T/mount.err" 200)"
	else
		write_refused "read-only, pidfile inside: run" 73 "$PIDF" "Read-only file system"
	fi
fi

# --- tmpfs remounted read-only ------------------------------------------------
M=$T/remount
mkdir -m 0755 "$M"
if ! mnt -t tmpfs -o size=1m,mode=0755 nmp-ro "$M"; then
	skip "read-only remount" "cannot mount a tmpfs: $(escape_file "$T/mount.err" 200)"
elif newcase ro-remount "$M"; then
	if ! mount -o remount,ro "$M" 2>"$T/mount.err"; then
		skip "read-only remount" "cannot remount read-only: $(escape_file "$T/mount.err" 200)"
	else
		write_refused "read-only remount: run" 73 "$C" "Read-only file system"
		runb cleanup "${O[@]}"
		refused "read-only remount: cleanup" 74 "$C" "Read-only file system"
		assert "read-only remount: old config intact" "differs" cmp -s "$OLD" "$C"
		mount -o remount,rw "$M"
		runb cleanup "${O[@]}"
		expect_code "read-only remount, then rw: cleanup" 0 "$RC"
	fi
fi

for m in "${MOUNTS[@]}"; do
	umount "$m" 2>/dev/null || umount -l "$m"
done
MOUNTS=()
finish
