#!/bin/bash
# The config files on disk: modes whatever the umask, atomic replacement,
# planted symlinks, unsafe directories refused and left alone, idempotent
# cleanup that removes exactly the config and its stray temporaries.
#
# `run` locks the pidfile, writes the config and execs haproxy in place. A
# stand-in haproxy (--haproxy-path, root-owned 0755, so it passes the
# binary checks) records its arguments and exits 0, so run returns. The
# pidfile goes beside the state dir (--pid-file, as neutron passes it), so a
# snapshot of the state dir sees the config files only; the default pidfile
# location has its own section at the end.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

umask 000 # the product must not depend on the umask

mkdir -m 0755 "$T/bin"
FAKE=$T/bin/haproxy
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s"\nexit 0\n' "$T/fake.argv" >"$FAKE"
chmod 0755 "$FAKE"

# opts STATE [MORE...]: the option vector for STATE, in O (O[1] is the id,
# O[3] the state path).
opts() {
	local st=$1
	shift
	O=(--network-id "$ID" --state-path "$st" --metadata-proxy-user "$NMP_USER"
		--metadata-proxy-group "$NMP_GROUP" --haproxy-path "$FAKE"
		--pid-file "$PIDF" "$@")
}

# newstate NAME: a fresh empty state directory (0755), its path in S; its
# pidfile PIDF goes outside NAME, in NAME.pids.
newstate() {
	S=$T/$1/state
	PIDF=$T/$1.pids/$ID.pid
	mkdir -p -m 0755 "$T/$1"
	mkdir -m 0755 "$S" "$T/$1.pids"
}

# runf ARGS...: runb, with the stand-in's record cleared first.
runf() {
	rm -f "$T/fake.argv"
	runb "$@"
}

# Conditions for assert, each one command.
regular() { [ -f "$1" ] && [ ! -L "$1" ]; }
absent() {
	local p
	for p in "$@"; do
		if [ -e "$p" ] || [ -L "$p" ]; then
			return 1
		fi
	done
	return 0
}
both_empty() { [ ! -s "$1" ] && [ ! -s "$2" ]; }

# exec_of NAME CONFIG: the stand-in haproxy was exec'd with -f CONFIG.
exec_of() {
	local want
	want=$(printf '%s\n' -f "$2")
	if [ -f "$T/fake.argv" ] && [ "$(cat "$T/fake.argv")" = "$want" ]; then
		ok "$1"
	elif [ -f "$T/fake.argv" ]; then
		fail "$1" "haproxy argv: $(escape_file "$T/fake.argv"), want -f $2$(stderr_note)"
	else
		fail "$1" "haproxy never ran, want -f $2$(stderr_note)"
	fi
}

# not_started NAME: a refused start neither ran haproxy nor kept its pidfile.
not_started() {
	assert "$1: haproxy not run" "it ran: $(escape_file "$T/fake.argv" 2>/dev/null)" \
		absent "$T/fake.argv"
	assert "$1: pidfile removed" "left behind: $PIDF" absent "$PIDF"
}

mode_is() { # NAME PATH WANT
	local got
	got=$(stat -c %a -- "$2" 2>/dev/null)
	if [ "$got" = "$3" ]; then
		ok "$1"
	else
		fail "$1" "mode of $2 is '${got:-missing}', want $3"
	fi
}

# refused NAME CODE: exit CODE with one escaped stderr line, nothing on stdout.
refused() {
	expect_code "$1" "$2" "$RC"
	if one_line "$T/err" && no_control_chars "$T/err"; then
		ok "$1 stderr"
	else
		fail "$1 stderr" "want one escaped line$(stderr_note)"
	fi
	if [ -s "$T/out" ]; then
		fail "$1 stdout" "stdout not empty: $(escape_file "$T/out" 200)"
	else
		ok "$1 stdout"
	fi
}

no_temps() { # NAME DIR
	local left
	left=$(find "$2" -name '.*.tmp-*' 2>/dev/null)
	if [ -z "$left" ]; then
		ok "$1"
	else
		fail "$1" "temporaries left behind: $(echo "$left" | tr '\n' ' ')"
	fi
}

same_file() { # NAME A B
	if cmp -s -- "$2" "$3"; then
		ok "$1"
	else
		fail "$1" "$2 and $3 differ: $(diff -- "$2" "$3" | grep '^[<>]' | head -n 4 | tr '\n' ' ')"
	fi
}

# --- run: modes, content, path ------------------------------------------
newstate run
opts "$S"
CONF=$S/ns-metadata-proxy/$ID.conf
runf run "${O[@]}"
expect_code "run: first write" 0 "$RC"
exec_of "run: haproxy -f <state>/ns-metadata-proxy/<uuid>.conf" "$CONF"
assert "run: stderr empty" "stderr:$(stderr_note)" [ ! -s "$T/err" ]
mode_is "run: config dir 0700 under umask 000" "$S/ns-metadata-proxy" 700
mode_is "run: config file 0600 under umask 000" "$CONF" 600
assert "run: config file is a regular file" "not a regular file: $CONF" regular "$CONF"
assert "run: owned by us" "owner $(stat -c %u "$CONF" 2>/dev/null)" \
	[ "$(stat -c %u "$CONF" 2>/dev/null)" = "$(id -u)" ]
mode_is "run: state dir untouched" "$S" 755
assert "run: only the config dir in the state dir" "entries: $(ls -A "$S" | tr '\n' ' ')" \
	[ "$(ls -A "$S")" = ns-metadata-proxy ]

before=$(snapshot "$T/run")
runb render "${O[@]}"
expect_code "render: exit" 0 "$RC"
cp "$T/out" "$T/render1"
same_file "render: output equals the file run wrote" "$T/render1" "$CONF"
same_snapshot "render: writes nothing" "$before" "$T/run"

newstate render_fresh
opts "$S"
before=$(snapshot "$T/render_fresh")
runb render "${O[@]}"
expect_code "render on a fresh state: exit" 0 "$RC"
same_snapshot "render on a fresh state: no dir, no pidfile" "$before" "$T/render_fresh"

# --- run again: replaced atomically -------------------------------------
S=$T/run/state
PIDF=$T/run.pids/$ID.pid
opts "$S" --metadata-port 9698
ino_before=$(stat -c %i "$CONF")
runf run "${O[@]}"
expect_code "rerun: exit" 0 "$RC"
exec_of "rerun: haproxy -f the same path" "$CONF"
if cmp -s "$T/render1" "$CONF"; then
	fail "rerun: content changed" "config still has the old content"
else
	ok "rerun: content changed"
fi
assert "rerun: new port in the config" "no 'bind fd@5 name 0.0.0.0:9698' in $CONF" \
	grep -q 'bind fd@5 name 0.0.0.0:9698$' "$CONF"
runb render "${O[@]}"
same_file "rerun: file equals render output" "$T/out" "$CONF"
no_temps "rerun: no temporary left" "$S"
assert "rerun: replaced by rename (new inode)" "inode $ino_before kept" \
	[ "$(stat -c %i "$CONF")" != "$ino_before" ]
mode_is "rerun: dir still 0700" "$S/ns-metadata-proxy" 700
mode_is "rerun: file still 0600" "$CONF" 600
assert "rerun: only the config in the dir" "entries: $(ls -A "$S/ns-metadata-proxy" | tr '\n' ' ')" \
	[ "$(ls -A "$S/ns-metadata-proxy")" = "$ID.conf" ]

# A trailing slash on the state path is dropped, not doubled.
opts "$S/"
runf run "${O[@]}"
expect_code "trailing slash: exit" 0 "$RC"
exec_of "trailing slash: clean path exec'd" "$CONF"

# --- a symlink planted at the config path -------------------------------
newstate link_file
opts "$S"
mkdir -m 0755 "$T/link_file/outside"
printf 'precious\n' >"$T/link_file/outside/victim"
chmod 0644 "$T/link_file/outside/victim"
mkdir -m 0700 "$S/ns-metadata-proxy"
chmod 0700 "$S/ns-metadata-proxy"
ln -s "$T/link_file/outside/victim" "$S/ns-metadata-proxy/$ID.conf"
ln -s "$T/link_file/outside/nothing" "$S/ns-metadata-proxy/$ID2.conf"
outside=$(snapshot "$T/link_file/outside")
runf run "${O[@]}"
expect_code "symlink at config path: run succeeds" 0 "$RC"
C=$S/ns-metadata-proxy/$ID.conf
assert "symlink at config path: replaced by a regular file" "$(stat -c %F "$C" 2>&1)" regular "$C"
mode_is "symlink at config path: file 0600" "$C" 600
runb render "${O[@]}"
same_file "symlink at config path: content is the config" "$T/out" "$C"
same_snapshot "symlink at config path: target untouched" "$outside" "$T/link_file/outside"
# A dangling one: replaced, and nothing appears at its target.
opts "$S"
O[1]=$ID2
runf run "${O[@]}"
expect_code "dangling symlink at config path: run succeeds" 0 "$RC"
assert "dangling symlink at config path: regular file now" \
	"$(stat -c %F "$S/ns-metadata-proxy/$ID2.conf" 2>&1)" regular "$S/ns-metadata-proxy/$ID2.conf"
same_snapshot "dangling symlink at config path: nothing created at the target" "$outside" "$T/link_file/outside"
no_temps "symlink at config path: no temporary left" "$S"

# --- a symlink planted as the config dir --------------------------------
newstate link_dir
opts "$S"
mkdir -m 0700 "$T/link_dir/target"
chmod 0700 "$T/link_dir/target"
ln -s "$T/link_dir/target" "$S/ns-metadata-proxy"
before=$(snapshot "$T/link_dir")
runf run "${O[@]}"
refused "symlink as config dir: run refused" 78
not_started "symlink as config dir"
assert "symlink as config dir: target stays empty" "target has: $(ls -A "$T/link_dir/target" | tr '\n' ' ')" \
	[ -z "$(ls -A "$T/link_dir/target")" ]
same_snapshot "symlink as config dir: nothing written" "$before" "$T/link_dir"
printf 'x\n' >"$T/link_dir/target/$ID.conf"
before=$(snapshot "$T/link_dir")
runb cleanup "${O[@]}"
refused "symlink as config dir: cleanup refused" 78
same_snapshot "symlink as config dir: cleanup deletes nothing" "$before" "$T/link_dir"

# --- unsafe existing config dirs ----------------------------------------
# unsafe NAME MODE [OWNER]: an existing config dir with MODE (and OWNER)
# holding a previous config: run and cleanup refuse with 78, change nothing.
unsafe() {
	local name=$1 mode=$2 owner=${3:-}
	newstate "unsafe_$mode${owner:+_$owner}"
	opts "$S"
	mkdir "$S/ns-metadata-proxy"
	printf 'previous\n' >"$S/ns-metadata-proxy/$ID.conf"
	chmod 0600 "$S/ns-metadata-proxy/$ID.conf"
	if [ -n "$owner" ]; then
		chown -R "$owner" "$S/ns-metadata-proxy"
	fi
	chmod "$mode" "$S/ns-metadata-proxy"
	before=$(snapshot "$S")
	runf run "${O[@]}"
	refused "$name: run refused" 78
	not_started "$name"
	assert "$name: message names the dir" "$(stderr_note)" \
		grep -qF "$S/ns-metadata-proxy" "$T/err"
	same_snapshot "$name: run changes nothing" "$before" "$S"
	runb cleanup "${O[@]}"
	refused "$name: cleanup refused" 78
	same_snapshot "$name: cleanup deletes nothing" "$before" "$S"
}
unsafe "world-writable config dir" 0777
unsafe "world-writable (o+w only) config dir" 0702
unsafe "group-writable config dir" 0770
if [ "$IS_ROOT" -eq 1 ]; then
	unsafe "foreign-owned config dir" 0700 65534
else
	skip "foreign-owned config dir" "not root: cannot chown a dir to another user"
fi

# Control: a 0755 dir of ours is safe (only writability matters).
newstate safe_0755
opts "$S"
mkdir -m 0755 "$S/ns-metadata-proxy"
chmod 0755 "$S/ns-metadata-proxy"
runf run "${O[@]}"
expect_code "0755 config dir of ours: accepted" 0 "$RC"
mode_is "0755 config dir of ours: file 0600" "$S/ns-metadata-proxy/$ID.conf" 600

# A regular file where the config dir should be.
newstate file_as_dir
opts "$S"
printf 'not a dir\n' >"$S/ns-metadata-proxy"
chmod 0600 "$S/ns-metadata-proxy"
before=$(snapshot "$S")
runf run "${O[@]}"
refused "file as config dir: run refused" 78
not_started "file as config dir"
same_snapshot "file as config dir: unchanged" "$before" "$S"

# A directory where the config file should be: refused, nothing left.
newstate dir_as_file
opts "$S"
mkdir -m 0700 "$S/ns-metadata-proxy"
chmod 0700 "$S/ns-metadata-proxy"
mkdir -m 0700 "$S/ns-metadata-proxy/$ID.conf"
# The temporary is made and removed again: only directory mtimes may move.
before=$(snapshot_content "$S")
runf run "${O[@]}"
refused "dir as config file: run refused" 78
not_started "dir as config file"
same_snapshot "dir as config file: unchanged, no temporary" "$before" "$S" snapshot_content
before=$(snapshot "$S")
runb cleanup "${O[@]}"
refused "dir as config file: cleanup refused" 78
same_snapshot "dir as config file: cleanup removes nothing" "$before" "$S"

# --- state path itself --------------------------------------------------
newstate missing
opts "$T/missing/state/sub"
rmdir "$S"
O[3]=$S
before=$(snapshot "$T/missing")
runf run "${O[@]}"
refused "missing state path: run" 73
not_started "missing state path"
same_snapshot "missing state path: nothing created" "$before" "$T/missing"

newstate state_link
mkdir -m 0755 "$T/state_link/real"
ln -s "$T/state_link/real" "$T/state_link/alias"
opts "$T/state_link/alias"
before=$(snapshot "$T/state_link")
runf run "${O[@]}"
refused "symlinked state path: run refused" 78
not_started "symlinked state path"
same_snapshot "symlinked state path: nothing written" "$before" "$T/state_link"

printf 'x\n' >"$T/state_link/plain"
chmod 0644 "$T/state_link/plain"
opts "$T/state_link/plain"
before=$(snapshot "$T/state_link")
runf run "${O[@]}"
refused "file as state path: run refused" 78
not_started "file as state path"
same_snapshot "file as state path: unchanged" "$before" "$T/state_link"

# --- cleanup ------------------------------------------------------------
S=$T/run/state
PIDF=$T/run.pids/$ID.pid
opts "$S"
runb cleanup "${O[@]}"
expect_code "cleanup: exit" 0 "$RC"
assert "cleanup: config removed" "still there: $CONF" absent "$CONF"
assert "cleanup: config dir kept" "dir gone" [ -d "$S/ns-metadata-proxy" ]
assert "cleanup: nothing else in the dir" "entries: $(ls -A "$S/ns-metadata-proxy" | tr '\n' ' ')" \
	[ -z "$(ls -A "$S/ns-metadata-proxy")" ]
assert "cleanup: silent" "$(stderr_note)$(escape_file "$T/out")" both_empty "$T/err" "$T/out"
before=$(snapshot "$S")
runb cleanup "${O[@]}"
expect_code "cleanup again: already gone is success" 0 "$RC"
same_snapshot "cleanup again: nothing changes" "$before" "$S"

newstate cleanup_nodir
opts "$S"
before=$(snapshot "$T/cleanup_nodir")
runb cleanup "${O[@]}"
expect_code "cleanup without config dir: exit" 0 "$RC"
same_snapshot "cleanup without config dir: nothing created" "$before" "$T/cleanup_nodir"
opts "$T/cleanup_nodir/missing"
runb cleanup "${O[@]}"
expect_code "cleanup with the state dir missing: exit" 0 "$RC"
same_snapshot "cleanup with the state dir missing: nothing created" "$before" "$T/cleanup_nodir"

# Hostile ids: refused before any path is built; sentinels survive.
newstate hostile
mkdir -m 0700 "$S/ns-metadata-proxy"
chmod 0700 "$S/ns-metadata-proxy"
mkdir -m 0755 "$T/hostile/etc"
for f in "$T/hostile/etc/passwd" "$T/hostile/etc/passwd.conf" "$S/x" "$S/x.conf" \
	"$S/ns-metadata-proxy/x.conf" "$S/ns-metadata-proxy/$ID.conf" "$S/ns-metadata-proxy/..conf"; do
	printf 'sentinel %s\n' "$f" >"$f"
	chmod 0600 "$f"
done
before=$(snapshot "$T/hostile")
for bad in "--network-id=../../etc/passwd" "--router-id=../x" "--network_id=.." \
	"--network-id=x" "--router-id=$ID/../x" "--network-id=/etc/passwd" \
	"--network-id=../ns-metadata-proxy/$ID"; do
	runb cleanup "$bad" --state-path "$S"
	refused "cleanup $bad" 65
	assert "cleanup $bad: message names the option" "$(stderr_note)" \
		grep -qF -- "${bad%%=*}" "$T/err"
	same_snapshot "cleanup $bad: deletes nothing" "$before" "$T/hostile"
done

# Stray temporaries of this id go, everything else stays.
newstate strays
opts "$S"
D=$S/ns-metadata-proxy
mkdir -m 0700 "$D"
chmod 0700 "$D"
for f in "$ID.conf" ".$ID.conf.tmp-abc123" ".$ID.conf.tmp-Zz9" ".$ID2.conf.tmp-abc123" \
	"$ID2.conf" "$ID.conf.bak" ".$ID.conf.tmpabc" ".$ID.conf" "$ID.conf.tmp-abc123" "other"; do
	printf '%s\n' "$f" >"$D/$f"
	chmod 0600 "$D/$f"
done
before=$(snapshot "$D" | grep -v -e '^\. ' -e "^\./$ID\.conf " -e "^\./\.$ID\.conf\.tmp-")
runb cleanup "${O[@]}"
expect_code "cleanup with strays: exit" 0 "$RC"
assert "cleanup with strays: config removed" "still there" absent "$D/$ID.conf"
assert "cleanup with strays: .$ID.conf.tmp-* removed" "left: $(ls -A "$D" | grep -F ".$ID.conf.tmp-" | tr '\n' ' ')" \
	absent "$D/.$ID.conf.tmp-abc123" "$D/.$ID.conf.tmp-Zz9"
after=$(snapshot "$D" | grep -v -e '^\. ')
if [ "$before" = "$after" ]; then
	ok "cleanup with strays: other files untouched"
else
	fail "cleanup with strays: other files untouched" "$(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -n 6 | tr '\n' ' ')"
fi
# Only a stray left (a run died mid-write): cleanup still removes it.
printf 'half\n' >"$D/.$ID.conf.tmp-q1w2e3"
runb cleanup "${O[@]}"
expect_code "cleanup of a lone stray: exit" 0 "$RC"
assert "cleanup of a lone stray: removed" "still there" absent "$D/.$ID.conf.tmp-q1w2e3"

# --- OVN flavour ----------------------------------------------------------
newstate ovn
opts "$S" --flavor ovn
OC=$S/ovn-metadata-proxy/$ID.conf
runf run "${O[@]}"
expect_code "ovn: run" 0 "$RC"
exec_of "ovn: haproxy -f <state>/ovn-metadata-proxy/<uuid>.conf" "$OC"
mode_is "ovn: dir 0700" "$S/ovn-metadata-proxy" 700
mode_is "ovn: file 0600" "$OC" 600
assert "ovn: no neutron dir" "ns-metadata-proxy/ created" absent "$S/ns-metadata-proxy"
assert "ovn: OVN header" "no X-OVN-Network-ID in $OC" grep -q "X-OVN-Network-ID $ID" "$OC"
runb render "${O[@]}"
same_file "ovn: file equals render output" "$T/out" "$OC"
opts "$S"
before=$(snapshot "$S")
runb cleanup "${O[@]}"
expect_code "ovn: neutron cleanup exit" 0 "$RC"
same_snapshot "ovn: neutron cleanup leaves the ovn config" "$before" "$S"
opts "$S" --flavor ovn
runb cleanup "${O[@]}"
expect_code "ovn: ovn cleanup exit" 0 "$RC"
assert "ovn: ovn cleanup removes it" "still there: $OC" absent "$OC"

# --- permission errors ------------------------------------------------------
newstate immutable
opts "$S"
runf run "${O[@]}"
expect_code "immutable: setup run" 0 "$RC"
D=$S/ns-metadata-proxy
if [ "$IS_ROOT" -ne 1 ]; then
	skip "immutable config dir" "not root: chattr +i needs CAP_LINUX_IMMUTABLE"
elif ! chattr +i "$D" 2>"$T/chattr.err"; then
	skip "immutable config dir" "chattr +i failed: $(escape_file "$T/chattr.err" 200)"
else
	at_exit "chattr -i '$D'"
	before=$(snapshot "$S")
	runb cleanup "${O[@]}"
	refused "immutable config dir: cleanup" 77
	assert "immutable config dir: message names the config" "$(stderr_note)" \
		grep -qF "$D/$ID.conf" "$T/err"
	rm -f "$PIDF"
	runf run "${O[@]}" --metadata-port 9699
	refused "immutable config dir: run" 77
	not_started "immutable config dir: run"
	chattr -i "$D"
	same_snapshot "immutable config dir: nothing changed" "$before" "$S"
fi

# As an unprivileged user: a state dir we cannot write, a config dir we
# cannot write. Root ignores mode bits, so root runs these as nobody.
RUNAS=()
if [ "$IS_ROOT" -eq 1 ]; then
	if command -v setpriv >/dev/null 2>&1 && getent passwd 65534 >/dev/null &&
		chmod 0711 "$T" && setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$BIN"; then
		RUNAS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
		UNPRIV=65534
	fi
else
	RUNAS=(env)
	UNPRIV=$(id -u)
fi
if [ ${#RUNAS[@]} -eq 0 ]; then
	skip "read-only state dir" "root, and cannot drop to uid 65534 with setpriv (or $BIN is not reachable for it)"
else
	newstate readonly
	chmod 0755 "$T/readonly"
	if [ "$IS_ROOT" -eq 1 ]; then
		chown "$UNPRIV" "$S" "$T/readonly.pids"
	fi
	chmod 0555 "$S"
	O=(--network-id "$ID" --state-path "$S" --metadata-proxy-user "$UNPRIV"
		--metadata-proxy-group "$(id -g "$UNPRIV" 2>/dev/null || echo "$UNPRIV")"
		--haproxy-path "$FAKE" --pid-file "$PIDF")
	before=$(snapshot "$S")
	rm -f "$T/fake.argv"
	LAST_CMD="$(quote_cmd "${RUNAS[@]}" "$BIN" run "${O[@]}")"
	"${RUNAS[@]}" "$BIN" run "${O[@]}" </dev/null >"$T/out" 2>"$T/err"
	RC=$?
	refused "read-only state dir: run" 77
	not_started "read-only state dir"
	same_snapshot "read-only state dir: nothing created" "$before" "$S"

	chmod 0755 "$S"
	mkdir -m 0700 "$S/ns-metadata-proxy"
	chmod 0700 "$S/ns-metadata-proxy"
	printf 'previous\n' >"$S/ns-metadata-proxy/$ID.conf"
	chmod 0600 "$S/ns-metadata-proxy/$ID.conf"
	if [ "$IS_ROOT" -eq 1 ]; then
		chown -R "$UNPRIV" "$S"
	fi
	chmod 0500 "$S/ns-metadata-proxy"
	before=$(snapshot "$S")
	LAST_CMD="$(quote_cmd "${RUNAS[@]}" "$BIN" cleanup "${O[@]}")"
	"${RUNAS[@]}" "$BIN" cleanup "${O[@]}" </dev/null >"$T/out" 2>"$T/err"
	RC=$?
	refused "read-only config dir: cleanup" 77
	same_snapshot "read-only config dir: nothing removed" "$before" "$S"
	chmod 0700 "$S/ns-metadata-proxy"
fi

# --- the default pidfile, <state-path>/external/pids/<uuid>.pid -------------
# README: every failure "changes nothing on disk", and a missing state path
# is 73 (cannot create).
newstate default_pid
mkdir -m 0777 "$S/ns-metadata-proxy"
chmod 0777 "$S/ns-metadata-proxy"
O=(--network-id "$ID" --state-path "$S" --metadata-proxy-user "$NMP_USER"
	--metadata-proxy-group "$NMP_GROUP" --haproxy-path "$FAKE")
before=$(snapshot "$S")
runf run "${O[@]}"
refused "default pidfile, unsafe config dir: run refused" 78
assert "default pidfile, unsafe config dir: haproxy not run" "it ran" absent "$T/fake.argv"
same_snapshot "default pidfile, unsafe config dir: state dir unchanged" "$before" "$S"

O[3]=$T/default_pid/missing
before=$(snapshot "$T/default_pid")
runf run "${O[@]}"
refused "default pidfile, missing state path: run" 73
assert "default pidfile, missing state path: haproxy not run" "it ran" absent "$T/fake.argv"
same_snapshot "default pidfile, missing state path: nothing created" "$before" "$T/default_pid"

finish
