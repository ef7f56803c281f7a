# Shared helpers of the file-system and exec attack tests, on top of
# tests/e2e/lib.sh (which this sources); sourced, never run.
#
# Gives: FAKE (a stand-in haproxy that records its argv in $FAKE_REC and
# exits 0, root-owned 0755 so it passes the binary checks), refused
# (exit code, one escaped stderr line naming something, empty stdout),
# not_run (the stand-in never ran), no_process_with (no process but this
# script carries a string in its command line), temps_of (the temporaries
# safefile leaves for a name), sentinel planting and checking, and
# need_root / in_private_mount_ns for the cases that need privileges.

. "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
SANITIZED=${NMP_SANITIZED:-0}
case $SANITIZED in 1 | ON | on | TRUE | true) SANITIZED=1 ;; *) SANITIZED=0 ;; esac

mkdir -m 0755 "$T/bin"
FAKE=$T/bin/haproxy
FAKE_REC=$T/fake.argv
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s"\nexit 0\n' "$FAKE_REC" >"$FAKE"
chmod 0755 "$FAKE"

# fs_state DIR: the state path S=DIR, its config dir D and config C, the
# default pidfile PIDF, and O: the options of a run against S with the
# stand-in haproxy (a case appends more).
fs_state() {
	S=$1
	D=$S/ns-metadata-proxy
	C=$D/$ID.conf
	PIDF=$S/external/pids/$ID.pid
	O=(--network-id "$ID" --state-path "$S" --metadata-proxy-user "$NMP_USER"
		--metadata-proxy-group "$NMP_GROUP" --haproxy-path "$FAKE")
}

# runf ARGS...: runb with the stand-in's record cleared first.
runf() {
	rm -f "$FAKE_REC"
	runb "$@"
}

# refused NAME CODE [NEEDLE...]: the last runb exited CODE with exactly one
# stderr line, escaped (no control or non-ASCII byte), containing every
# NEEDLE as a fixed string, and printed nothing on stdout. Bash builtins
# only: the injection matrix calls this a thousand times.
refused() {
	local name=$1 code=$2 n err="" nl
	shift 2
	expect_code "$name: exit $code" "$code" "$RC"
	IFS= read -r -d '' err <"$T/err"
	nl=${err//[!$'\n']/}
	if [ "${#nl}" -eq 1 ] && [[ $err == *$'\n' ]] &&
		[[ $err != *[$'\x01'-$'\x09'$'\x0b'-$'\x1f'$'\x7f'-$'\xff']* ]]; then
		ok "$name: one escaped stderr line"
	else
		fail "$name: one escaped stderr line" "stderr is not one escaped line$(stderr_note)"
	fi
	for n in "$@"; do
		if [[ $err == *"$n"* ]]; then
			ok "$name: names $n"
		else
			fail "$name: names $n" "stderr lacks '$n'$(stderr_note)"
		fi
	done
	if [ -s "$T/out" ]; then
		fail "$name: stdout empty" "stdout: $(escape_file "$T/out" 200)"
	else
		ok "$name: stdout empty"
	fi
}

# not_run NAME: the stand-in haproxy was not exec'd.
not_run() {
	if [ -e "$FAKE_REC" ]; then
		fail "$1: haproxy not run" "it ran with: $(escape_file "$FAKE_REC")"
	else
		ok "$1: haproxy not run"
	fi
}

# procs_with STRING: pids (not this shell) whose command line holds STRING
# (bash builtins only, so no helper process of ours matches).
procs_with() {
	local f p args
	for f in /proc/[0-9]*/cmdline; do
		p=${f#/proc/}
		p=${p%/cmdline}
		[ "$p" = "$$" ] || [ "$p" = "$BASHPID" ] && continue
		args=()
		mapfile -d '' args 2>/dev/null <"$f" || continue
		[[ "${args[*]}" == *"$1"* ]] && echo "$p"
	done
	return 0
}

# no_process_with NAME STRING: no process is left carrying STRING.
no_process_with() {
	local left
	left=$(procs_with "$2" | tr '\n' ' ')
	if [ -z "$left" ]; then
		ok "$1: no process left"
	else
		fail "$1: no process left" "pids carrying '$2': $left"
	fi
}

# temps_of DIR NAME: the temporaries safefile makes for NAME in DIR
# (".NAME.tmp-XXXXXX"), one per line.
temps_of() {
	find "$1" -maxdepth 1 -name ".$2.tmp-*" -printf '%f\n' 2>/dev/null
}

# fingerprint PATH: what must not change about a file we planted: type,
# mode, owner, size, inode, link count, mtime, ctime and content hash.
fingerprint() {
	if [ ! -e "$1" ] && [ ! -L "$1" ]; then
		echo "(absent)"
		return 0
	fi
	stat -c '%F mode=%a uid=%u gid=%g size=%s ino=%i links=%h mtime=%.9Y ctime=%.9Z' -- "$1"
	if [ -f "$1" ] && [ ! -L "$1" ]; then
		sha256sum <"$1" | cut -d' ' -f1
	fi
}

# plant_sentinels DIR FILE...: create each FILE (relative to DIR) with a
# distinct content, mode 0644, and remember their fingerprints in
# SENTINELS_BEFORE.
plant_sentinels() {
	local dir=$1 f
	shift
	SENTINELS=()
	for f in "$@"; do
		mkdir -p "$dir/$(dirname "$f")"
		printf 'sentinel %s\n' "$f" >"$dir/$f"
		chmod 0644 "$dir/$f"
		SENTINELS+=("$dir/$f")
	done
	SENTINELS_BEFORE=$(sentinels_now)
}

# sentinels_now: each planted sentinel and its fingerprint, one a line.
sentinels_now() {
	local f
	for f in "${SENTINELS[@]}"; do
		printf '%s ' "$f"
		fingerprint "$f" | tr '\n' ' '
		echo
	done
}

# sentinels_intact NAME: every planted sentinel is as it was, byte for byte,
# same inode, same mtime and ctime.
sentinels_intact() {
	same_text "$1: sentinels untouched" "$SENTINELS_BEFORE" "$(sentinels_now)" "" 4
}

# need_root NAME: true when root; otherwise records a skip.
need_root() {
	if [ "$IS_ROOT" -eq 1 ]; then
		return 0
	fi
	skip "$1" "not root"
	return 1
}
