#!/bin/bash
# Attack: symlinks planted where the launcher writes, so that a root
# launcher writes through them (CWE-59). Each planted link points at a
# victim file outside the state tree; the victim must keep its bytes, inode,
# mtime and ctime, and each case checks the documented outcome:
#   - at the config file: run replaces the link itself with a regular 0600
#     file (rename over it), cleanup removes the link itself;
#   - at the temporary name (".<uuid>.conf.tmp-XXXXXX", six random
#     [A-Za-z0-9]): made predictable with strace poking getrandom's result,
#     the O_EXCL create fails on the link and the next name is used (and
#     once the config is in place run removes the link itself with the
#     other stale temporaries); when every name collides run gives up with
#     73 and changes nothing;
#   - at the config directory or the state path: refused with 78;
#   - at the pidfile: run refuses with 78, status says 4 (unknown), stop
#     refuses with 78; the pidfile has no temporary (it is written in place
#     through the locked descriptor), which is checked too.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/fs_lib.sh"

CONFNAME=$ID.conf
TMPAAA=.$CONFNAME.tmp-AAAAAA # what six zero bytes from getrandom make

# newcase NAME: state S (with an empty pids dir), config dir D, config C,
# pidfile PIDF, victim V outside S (sentinel), option vector O.
newcase() {
	CASE=$1
	R=$T/$1
	fs_state "$R/state"
	V=$R/outside/victim
	mkdir -p -m 0755 "$R" "$S" "$S/external/pids"
	plant_sentinels "$R" outside/victim
}
# with_conf: a config dir holding a previous config of ours.
with_conf() {
	mkdir -m 0700 "$D"
	chmod 0700 "$D"
	printf 'previous config\n' >"$C"
	chmod 0600 "$C"
}
is_link_to() { [ -L "$1" ] && [ "$(readlink -- "$1")" = "$2" ]; }
regular() { [ -f "$1" ] && [ ! -L "$1" ]; }
absent() { [ ! -e "$1" ] && [ ! -L "$1" ]; }
exec_of_config() {
	assert "$1: haproxy exec'd on the config" "argv: $(escape_file "$FAKE_REC" 2>/dev/null)$(stderr_note)" \
		eval '[ "$(cat "$FAKE_REC" 2>/dev/null)" = "$(printf "%s\n" -f "$C")" ]'
}
same_as_render() {
	runb render "${O[@]}"
	assert "$1: the file is the rendered config" "differs from render" cmp -s "$T/out" "$C"
}

# --- 1. at the config file ------------------------------------------------
newcase conf-link
with_conf
ln -sf "$V" "$C"
runf run "${O[@]}"
expect_code "symlink at config: run" 0 "$RC"
exec_of_config "symlink at config"
assert "symlink at config: the link itself was replaced" "$(stat -c %F "$C" 2>&1)" regular "$C"
assert "symlink at config: 0600" "mode $(stat -c %a "$C")" [ "$(stat -c %a "$C")" = 600 ]
same_as_render "symlink at config"
sentinels_intact "symlink at config"
assert "symlink at config: no temporary left" "$(temps_of "$D" "$CONFNAME")" [ -z "$(temps_of "$D" "$CONFNAME")" ]

newcase conf-dangling
with_conf
ln -sf "$R/outside/ghost" "$C"
runf run "${O[@]}"
expect_code "dangling symlink at config: run" 0 "$RC"
assert "dangling symlink at config: replaced by a regular file" "$(stat -c %F "$C" 2>&1)" regular "$C"
assert "dangling symlink at config: nothing made at its target" "ghost exists" absent "$R/outside/ghost"
sentinels_intact "dangling symlink at config"

newcase conf-cleanup
with_conf
ln -sf "$V" "$C"
ln -s "$V" "$D/.$CONFNAME.tmp-planted"
runb cleanup "${O[@]}"
expect_code "symlink at config: cleanup" 0 "$RC"
assert "symlink at config: cleanup removed the link" "still there" absent "$C"
assert "symlink at a temporary name: cleanup removed the link" "still there" absent "$D/.$CONFNAME.tmp-planted"
sentinels_intact "symlink at config: cleanup"

# --- 2. at the temporary name ---------------------------------------------
# strace rewrites what getrandom returned with zero bytes, so safefile's
# name is ".<uuid>.conf.tmp-AAAAAA". glibc's malloc asks getrandom for 8
# bytes first; a poke of 6 bytes is safe for any call asking 6 or more,
# which the trace is checked for.
strace_ok=1
if ! command -v strace >/dev/null; then
	strace_ok=0
	skip "symlink at the temporary name" "strace is not installed"
elif ! strace -f -o /dev/null -e trace=getrandom true 2>"$T/strace.err"; then
	strace_ok=0
	skip "symlink at the temporary name" "strace cannot trace here: $(escape_file "$T/strace.err" 200)"
fi
# traced WHEN ARGS...: run the binary under strace, every getrandom from
# call number WHEN on poked to zeros; trace in $T/trace, exit code in RC.
traced() {
	local when=$1
	shift
	rm -f "$FAKE_REC"
	LAST_CMD="strace ... $(quote_cmd "$BIN" "$@")"
	# LeakSanitizer cannot run under ptrace: off for traced runs.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		timeout 30 strace -f -qq -o "$T/trace" -e trace=getrandom,openat,renameat,unlinkat \
		-e inject=getrandom:poke_exit=@arg1=000000000000:when="$when" \
		"$BIN" "$@" </dev/null >"$T/out" 2>"$T/err"
	RC=$?
}
short_getrandom() { grep -E 'getrandom\(.*, [0-5], ' "$T/trace"; }

if [ "$strace_ok" -eq 1 ]; then
	newcase tmp-all
	with_conf
	ln -s "$V" "$D/$TMPAAA"
	before=$(snapshot "$D")
	traced 1+ run "${O[@]}"
	if [ -n "$(short_getrandom)" ]; then
		skip "symlink at the temporary name" "a getrandom call asks fewer than 6 bytes: $(short_getrandom | head -n 1)"
	else
		# Every try makes the same name: O_EXCL fails on the link each time.
		tries=$(grep -cF "\"$TMPAAA\", O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW" "$T/trace")
		eexist=$(grep -F "\"$TMPAAA\", O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW" "$T/trace" | grep -c EEXIST)
		assert "temporary name always taken by a symlink: every create refused (EEXIST)" \
			"$tries creates, $eexist EEXIST" eval '[ "$tries" -ge 2 ] && [ "$tries" = "$eexist" ]'
		refused "temporary name always taken by a symlink" 73 "$C" "File exists"
		not_run "temporary name always taken by a symlink"
		assert "temporary name always taken: the link is untouched" "$(ls -l "$D/$TMPAAA" 2>&1)" \
			is_link_to "$D/$TMPAAA" "$V"
		sentinels_intact "temporary name always taken"
		assert "temporary name always taken: nothing renamed" "$(grep renameat "$T/trace")" \
			eval '! grep -q renameat "$T/trace"'
		assert "temporary name always taken: pidfile removed again" "still there" absent "$PIDF"
		same_snapshot "temporary name always taken: config dir as it was" "$before" "$D"
	fi

	newcase tmp-once
	with_conf
	ln -s "$V" "$D/$TMPAAA"
	# Which getrandom call is safefile's (the first asking for 6 bytes):
	# count on a run with every call poked (it gives up, see above).
	traced 1+ run "${O[@]}"
	n=$(grep -E 'getrandom\(' "$T/trace" | grep -nE ', 6, ' | head -n 1 | cut -d: -f1)
	rm -f "$PIDF"
	if [ -z "$n" ]; then
		fail "temporary name taken once" "no 6-byte getrandom in the trace"
	else
		traced "$n" run "${O[@]}"
		expect_code "temporary name taken once: run" 0 "$RC"
		assert "temporary name taken once: the first create hit the link (EEXIST)" \
			"$(grep -F "$TMPAAA" "$T/trace" | head -n 2)" \
			eval 'grep -F "\"$TMPAAA\", O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW" "$T/trace" | grep -q EEXIST'
		assert "temporary name taken once: another name was renamed into place" \
			"$(grep renameat "$T/trace")" \
			eval 'grep -E "renameat\(.*\"\.$CONFNAME\.tmp-[A-Za-z0-9]{6}\", .*\"$CONFNAME\"\) = 0" "$T/trace" | grep -vqF "$TMPAAA"'
		exec_of_config "temporary name taken once"
		assert "temporary name taken once: config is a regular file" "$(stat -c %F "$C" 2>&1)" regular "$C"
		same_as_render "temporary name taken once"
		# Once the config is in place, run sweeps the temporaries of
		# its config: the planted link is removed itself.
		assert "temporary name taken once: the planted link was removed, not followed" \
			"$(ls -l "$D/$TMPAAA" 2>&1)" absent "$D/$TMPAAA"
		assert "temporary name taken once: no temporary left" \
			"$(temps_of "$D" "$CONFNAME" | tr '\n' ' ')" [ -z "$(temps_of "$D" "$CONFNAME")" ]
		sentinels_intact "temporary name taken once"
	fi
fi

# --- 3. at the config directory and the state path ------------------------
newcase dir-link
mkdir -m 0700 "$R/outside/confdir"
chmod 0700 "$R/outside/confdir"
printf 'x\n' >"$R/outside/confdir/$CONFNAME"
ln -s "$R/outside/confdir" "$D"
plant_sentinels "$R" outside/victim
SENTINELS+=("$R/outside/confdir/$CONFNAME")
SENTINELS_BEFORE=$(sentinels_now)
before=$(snapshot "$R/outside")
for cmd in run cleanup stop; do
	runf "$cmd" "${O[@]}"
	refused "symlink as config dir: $cmd" 78 "$D" "symbolic link"
	not_run "symlink as config dir: $cmd"
	same_snapshot "symlink as config dir: $cmd leaves the target dir alone" "$before" "$R/outside"
	rm -f "$PIDF"
done
sentinels_intact "symlink as config dir"

newcase state-link
mkdir -m 0755 "$R/real"
ln -s "$R/real" "$R/alias"
O[3]=$R/alias
before=$(snapshot "$R")
runf run "${O[@]}"
refused "symlink as state path: run" 78 "$R/alias" "symbolic link"
not_run "symlink as state path"
same_snapshot "symlink as state path: nothing written" "$before" "$R"

# --- 4. at the pidfile ------------------------------------------------------
newcase pid-link
with_conf
ln -s "$V" "$PIDF"
before=$(snapshot "$R")
runf run "${O[@]}"
refused "symlink at pidfile: run" 78 "$PIDF" "symbolic link"
not_run "symlink at pidfile: run"
runb status "${O[@]}"
expect_code "symlink at pidfile: status unknown" 4 "$RC"
runb stop "${O[@]}"
refused "symlink at pidfile: stop" 78 "$PIDF" "symbolic link"
same_snapshot "symlink at pidfile: nothing changed (link, config, victim)" "$before" "$R"
sentinels_intact "symlink at pidfile"

newcase pid-dangling
with_conf
ln -s "$R/outside/ghost.pid" "$PIDF"
before=$(snapshot "$R")
runf run "${O[@]}"
refused "dangling symlink at pidfile: run" 78 "$PIDF"
not_run "dangling symlink at pidfile"
assert "dangling symlink at pidfile: nothing made at its target" "ghost.pid exists" absent "$R/outside/ghost.pid"
same_snapshot "dangling symlink at pidfile: nothing changed" "$before" "$R"

# The pidfile is written in place: a run renames nothing into the pids dir
# and leaves exactly one file there.
newcase pid-notemp
with_conf
if [ "$strace_ok" -eq 1 ]; then
	rm -f "$FAKE_REC"
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		timeout 30 strace -f -qq -o "$T/trace" -e trace=openat,renameat,rename,link,linkat,symlinkat \
		"$BIN" run "${O[@]}" </dev/null >"$T/out" 2>"$T/err"
	RC=$?
	expect_code "pidfile: run" 0 "$RC"
	assert "pidfile: nothing renamed or linked but the config" "$(grep -E 'rename|link' "$T/trace" | tr '\n' ' ')" \
		eval '[ "$(grep -cE "^[0-9]+ +(rename|renameat|link|linkat|symlinkat)\(" "$T/trace")" -eq 1 ] && grep -q "renameat(.*\"$CONFNAME\") = 0" "$T/trace"'
	assert "pidfile: created only under its own name" "$(grep -F O_CREAT "$T/trace" | tr '\n' ' ')" \
		eval '[ "$(grep -F O_CREAT "$T/trace" | grep -vF "$FAKE_REC" | grep -cvE "\"($ID\.pid|\.$CONFNAME\.tmp-[A-Za-z0-9]{6})\"")" -eq 0 ]'
else
	runf run "${O[@]}"
	expect_code "pidfile: run" 0 "$RC"
fi
assert "pidfile: the pids dir holds the pidfile only" "$(ls -A "$S/external/pids" | tr '\n' ' ')" \
	[ "$(ls -A "$S/external/pids")" = "$ID.pid" ]
assert "pidfile: a regular file" "$(stat -c %F "$PIDF" 2>&1)" regular "$PIDF"

finish
