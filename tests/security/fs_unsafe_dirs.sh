#!/bin/bash
# Attack: a local user prepares the directories the launcher writes into.
# A config directory that others can write (or own) lets them swap the
# config of a proxy that starts as root; the original launcher made its
# directories with default permissions. Each existing directory below is
# refused with 78 (unsafe state on disk) and one stderr line naming it, and
# nothing changes on disk (a previous config included):
#   - config directory world-writable (0777, 0702, sticky 1777),
#     group-writable (0770, 0720), owned by another user (as root: nobody);
#   - a regular file where the config directory should be, a directory
#     where the config file should be;
#   - the pidfile's directory group- or world-writable without the sticky
#     bit; the pidfile owned by another user, or group/world-writable, or a
#     directory;
#   - a regular file as the state path.
# for run, cleanup and stop (each with its own documented outcome), and
# controls: 0755 and a foreign group without write access are safe, a
# sticky world-writable pidfile directory (like /tmp) is accepted. A log
# file's directory (--log-dir, or an absolute --log-file's) follows the
# pidfile directory's rule, with either engine: 78 naming the option, the
# log directory and the reason, nothing made; sticky or 0755 is accepted.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/fs_lib.sh"

umask 000 # nothing may depend on the caller's umask

# newcase NAME: state S with a previous config in D (0700) and an empty
# pids dir; option vector O.
newcase() {
	CASE=$1
	R=$T/$1
	fs_state "$R/state"
	PD=$S/external/pids
	mkdir -p "$S" "$PD"
	chmod 0755 "$R" "$S" "$S/external" "$PD"
	mkdir -m 0700 "$D"
	printf 'previous config\n' >"$C"
	chmod 0600 "$C"
}

# refuse_all NAME NEEDLE CMDS...: each command is refused with 78 naming
# NEEDLE, haproxy never runs, the tree under R lists as it did.
refuse_all() {
	local name=$1 needle=$2 cmd before
	shift 2
	before=$("${SNAP:-snapshot}" "$R")
	for cmd in "$@"; do
		runf "$cmd" "${O[@]}"
		refused "$name: $cmd" 78 "$needle"
		not_run "$name: $cmd"
		same_snapshot "$name: $cmd changes nothing" "$before" "$R" "${SNAP:-snapshot}"
	done
}

# --- the config directory ------------------------------------------------
for mode in 0777 0702 1777 0770 0720 0730; do
	newcase "confdir-$mode"
	chmod "$mode" "$D"
	refuse_all "config dir mode $mode" "$D" run cleanup stop
done

if need_root "config dir owned by nobody"; then
	newcase confdir-nobody
	chown -R 65534 "$D"
	refuse_all "config dir owned by nobody" "$D" run cleanup stop
	newcase confdir-nobody-0755
	chown 65534 "$D"
	chmod 0755 "$D"
	refuse_all "config dir owned by nobody, 0755" "$D" run cleanup stop
	# Control: our dir, a foreign group without write access, is safe.
	newcase confdir-group
	chgrp 65534 "$D"
	chmod 0750 "$D"
	runf run "${O[@]}"
	expect_code "control: config dir 0750 of a foreign group accepted" 0 "$RC"
fi

newcase confdir-file
rm -rf "$D"
printf 'not a dir\n' >"$D"
chmod 0600 "$D"
refuse_all "file as config dir" "$D" run cleanup stop

newcase conffile-dir
rm -f "$C"
mkdir -m 0700 "$C"
chmod 0700 "$C"
printf 'inside\n' >"$C/keep"
before=$(snapshot_content "$R")
runf run "${O[@]}"
# run makes and removes its temporary: only directory mtimes may move.
refused "dir as config file: run" 78 "$C"
not_run "dir as config file: run"
same_snapshot "dir as config file: run changes nothing, no temporary" "$before" "$R" snapshot_content
before=$(snapshot "$R")
for cmd in cleanup stop; do
	runf "$cmd" "${O[@]}"
	refused "dir as config file: $cmd" 78 "$C"
	same_snapshot "dir as config file: $cmd removes nothing" "$before" "$R"
done

# --- the state path -------------------------------------------------------
newcase state-file
printf 'x\n' >"$R/plain"
chmod 0644 "$R/plain"
O[3]=$R/plain
refuse_all "file as state path" "$R/plain" run
O[3]=$S

# --- the pidfile's directory and the pidfile --------------------------------
for mode in 0777 0775 0757; do
	newcase "piddir-$mode"
	chmod "$mode" "$PD"
	refuse_all "pidfile dir mode $mode" "$PIDF" run stop
done
# The same with a fresh state: the refused run must not leave the config
# directory it made (the state dir's mtime moves: it came and went).
newcase piddir-fresh
rm -rf "$D"
chmod 0777 "$PD"
SNAP=snapshot_content refuse_all "pidfile dir 0777, no config dir yet" "$PIDF" run

newcase piddir-sticky
chmod 1777 "$PD"
runf run "${O[@]}"
expect_code "control: pidfile dir 1777 (sticky) accepted" 0 "$RC"

for mode in 0666 0620 0602; do
	newcase "pidfile-$mode"
	printf '1\n' >"$PIDF"
	chmod "$mode" "$PIDF"
	refuse_all "pidfile mode $mode" "$PIDF" run stop
done
if need_root "pidfile owned by nobody"; then
	newcase pidfile-nobody
	printf '1\n' >"$PIDF"
	chmod 0644 "$PIDF"
	chown 65534 "$PIDF"
	refuse_all "pidfile owned by nobody" "$PIDF" run stop
fi
# --- the log directory: the pidfile directory's rule ------------------------
# Refused before anything is made (no log file, no config, no pidfile), with
# either engine, naming the option that set the directory: --log-dir, or
# an absolute --log-file. The built-in engine's line binds 192.0.2.1, an
# address no host has: should the directory pass, it fails there (69)
# instead of serving.
LOGDIR_WHY="writable by group or others without the sticky bit"
for mode in 0775 0757; do
	newcase "logdir-$mode"
	mkdir -m 0755 "$R/logs"
	chmod "$mode" "$R/logs"
	O+=(--log-dir "$R/logs")
	refuse_all "log dir mode $mode" "cannot use --log-dir '$R/logs': $LOGDIR_WHY" run
done
newcase logdir-builtin
mkdir -m 0755 "$R/logs"
chmod 0777 "$R/logs"
O+=(--engine builtin --bind-address 192.0.2.1 --log_dir "$R/logs" --log_file x.log)
refuse_all "log dir 0777, built-in engine" "cannot use --log-dir '$R/logs': $LOGDIR_WHY" run
newcase logfile-dir
mkdir -m 0755 "$R/logs"
chmod 0770 "$R/logs"
O+=(--log-file "$R/logs/x.log")
refuse_all "absolute --log-file in a 0770 dir" "cannot use --log-file '$R/logs/x.log': its directory is $LOGDIR_WHY" run
newcase logdir-sticky
mkdir -m 0755 "$R/logs"
chmod 1777 "$R/logs"
runf run "${O[@]}" --log-dir "$R/logs"
expect_code "control: log dir 1777 (sticky) accepted" 0 "$RC"
assert "control: log dir 1777: the log file is made" "no $R/logs/ns-metadata-proxy-$ID.log" \
	[ -f "$R/logs/ns-metadata-proxy-$ID.log" ]

newcase pidfile-dir
mkdir -m 0755 "$PIDF"
chmod 0755 "$PIDF"
refuse_all "dir as pidfile" "$PIDF" run

finish
