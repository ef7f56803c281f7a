#!/bin/bash
# The install and the systemd unit, from a build directory:
#
#   NMP_BUILD_DIR=build/release NMP_SD_NOTIFY=1|0 \
#       bash tests/e2e/systemd_unit.sh /path/to/ns-metadata-proxy
#
# - `cmake --install` with DESTDIR and a prefix, and with a prefix alone:
#   the binary in sbin, the neutron-ns-metadata-proxy symlink beside it, the
#   man page and its twin, the template unit naming the installed binary,
#   Type=notify exactly when the build has sd_notify.
# - `systemd-analyze verify` of an instance of the installed unit prints
#   nothing and succeeds (its man page found too); `systemd-analyze security
#   --offline=true` scores it no worse than NMP_UNIT_EXPOSURE (tenths;
#   default 27, i.e. 2.7), and the score is printed.
# - The unit's capability set is enough and each capability in it is needed:
#   under setpriv with the unit's CapabilityBoundingSet and no_new_privs,
#   as root, the installed binary enters a network namespace this script
#   made, binds port 80 there, drops to nobody/nogroup, and serves a request
#   from inside the namespace, with either engine; the serving process then
#   has no capability at all. Without CAP_SYS_ADMIN it cannot enter the
#   namespace, without CAP_NET_BIND_SERVICE it cannot bind port 80, without
#   CAP_SETUID or CAP_SETGID it cannot drop privileges: each start fails
#   with its documented exit code.
#
# systemd is not PID 1 on the machines this runs on, so the unit is not
# started by systemd itself; the file system and system-call sandboxing of
# the unit are therefore checked by systemd-analyze only.
set -u

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD=${NMP_BUILD_DIR:-}
SD=${NMP_SD_NOTIFY:-}
MAX_EXPOSURE=${NMP_UNIT_EXPOSURE:-27}
UNIT=ns-metadata-proxy@.service
NS=
at_exit bg_stop # the agent and the proxies, by pid
at_exit '[ -n "$NS" ] && ip netns del "$NS"'

if [ -z "$BUILD" ] || [ ! -f "$BUILD/cmake_install.cmake" ]; then
	skip install "NMP_BUILD_DIR does not name a configured build directory"
	finish
fi

# --- install --------------------------------------------------------------
# layout NAME ROOT SBIN MAN UNITDIR: what an install put under ROOT.
layout() {
	local n=$1 root=$2 sbin=$3 man=$4 unitdir=$5 exec type
	assert "$n-binary" "no executable $sbin/ns-metadata-proxy" [ -f "$root$sbin/ns-metadata-proxy" ] && [ -x "$root$sbin/ns-metadata-proxy" ]
	assert "$n-symlink" "$sbin/neutron-ns-metadata-proxy is not a symlink to ns-metadata-proxy" \
		[ "$(readlink "$root$sbin/neutron-ns-metadata-proxy")" = ns-metadata-proxy ]
	assert "$n-man" "no man page in $man/man8" [ -s "$root$man/man8/ns-metadata-proxy.8" ]
	assert "$n-man-twin" "neutron-ns-metadata-proxy.8 is not a symlink to ns-metadata-proxy.8" \
		[ "$(readlink "$root$man/man8/neutron-ns-metadata-proxy.8")" = ns-metadata-proxy.8 ]
	assert "$n-unit" "no $unitdir/$UNIT" [ -s "$root$unitdir/$UNIT" ]
	exec=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$root$unitdir/$UNIT" 2>/dev/null)
	assert "$n-unit-exec" "ExecStart runs '$exec', not $sbin/ns-metadata-proxy" [ "$exec" = "$sbin/ns-metadata-proxy" ]
	type=$(sed -n 's/^Type=//p' "$root$unitdir/$UNIT" 2>/dev/null)
	if [ "$SD" = 1 ]; then
		assert "$n-unit-type" "Type=$type in a build with sd_notify" [ "$type" = notify ]
	elif [ "$SD" = 0 ]; then
		assert "$n-unit-type" "Type=$type in a build without sd_notify" [ "$type" = exec ]
	fi
	assert "$n-version" "the installed binary does not say its version" \
		bash -c "'$root$sbin/ns-metadata-proxy' --version | grep -qx 'ns-metadata-proxy [0-9][0-9.]*'"
}

DEST=$T/dest
if DESTDIR=$DEST cmake --install "$BUILD" --prefix /opt/nmp >"$T/install.out" 2>&1; then
	ok destdir-install
	layout destdir "$DEST" /opt/nmp/sbin /opt/nmp/share/man /opt/nmp/lib/systemd/system
	assert destdir-confined "files installed outside DESTDIR" \
		bash -c "! grep -v '^-- Install configuration' '$T/install.out' | grep -v \"$DEST/opt/nmp/\""
else
	fail destdir-install "cmake --install failed: $(head -c 300 "$T/install.out")"
fi

P=$T/usr
if cmake --install "$BUILD" --prefix "$P" >"$T/install2.out" 2>&1; then
	ok prefix-install
	layout prefix "" "$P/sbin" "$P/share/man" "$P/lib/systemd/system"
else
	fail prefix-install "cmake --install failed: $(head -c 300 "$T/install2.out")"
	finish
fi
IBIN=$P/sbin/ns-metadata-proxy

# --- systemd-analyze --------------------------------------------------------
INSTANCE=$P/lib/systemd/system/ns-metadata-proxy@$ID.service
ln -s "$UNIT" "$INSTANCE"
if ! command -v systemd-analyze >/dev/null; then
	skip verify "no systemd-analyze (Debian package systemd)"
else
	MANPATH=$P/share/man systemd-analyze verify "$INSTANCE" >"$T/verify.out" 2>&1
	rc=$?
	expect_code verify 0 "$rc"
	assert verify-quiet "systemd-analyze verify said: $(escape_file "$T/verify.out" 400)" [ ! -s "$T/verify.out" ]
	systemd-analyze security --offline=true --threshold="$MAX_EXPOSURE" "$INSTANCE" >"$T/security.out" 2>&1
	rc=$?
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' "$T/security.out")
	echo "systemd-analyze security --offline=true $UNIT: exposure $score (at most $MAX_EXPOSURE tenths allowed)"
	expect_code security-threshold 0 "$rc"
	assert security-score "no score in: $(tail -c 200 "$T/security.out")" [ -n "$score" ]
fi

# --- the fleet's unit ---------------------------------------------------------
# Installed beside the template, naming the installed binary; verified and
# scored the same way; no capability at all, a descriptor store and a file
# limit for ten thousand networks, the watchdog.
FLEET_UNIT=$P/lib/systemd/system/ns-metadata-proxy-fleet.service
assert fleet-unit "no $FLEET_UNIT" [ -s "$FLEET_UNIT" ]
fexec=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$FLEET_UNIT" 2>/dev/null)
assert fleet-unit-exec "ExecStart runs '$fexec'" [ "$fexec" = "$IBIN" ]
assert fleet-unit-no-caps "CapabilityBoundingSet is not empty" grep -qx 'CapabilityBoundingSet=' "$FLEET_UNIT"
fdmax=$(sed -n 's/^FileDescriptorStoreMax=//p' "$FLEET_UNIT")
nofile=$(sed -n 's/^LimitNOFILE=//p' "$FLEET_UNIT")
assert fleet-unit-fdstore "FileDescriptorStoreMax=$fdmax < 2 x 16384 + 1" [ "${fdmax:-0}" -gt 32768 ]
assert fleet-unit-nofile "LimitNOFILE=$nofile too low for 16384 networks" [ "${nofile:-0}" -ge 65536 ]
assert fleet-unit-watchdog "no WatchdogSec" grep -q '^WatchdogSec=[1-9]' "$FLEET_UNIT"
ftype=$(sed -n 's/^Type=//p' "$FLEET_UNIT")
if [ "$SD" = 1 ]; then
	assert fleet-unit-type "Type=$ftype in a build with sd_notify" [ "$ftype" = notify ]
fi
if command -v systemd-analyze >/dev/null; then
	MANPATH=$P/share/man systemd-analyze verify "$FLEET_UNIT" >"$T/fverify.out" 2>&1
	expect_code fleet-verify 0 $?
	assert fleet-verify-quiet "systemd-analyze verify said: $(escape_file "$T/fverify.out" 400)" [ ! -s "$T/fverify.out" ]
	systemd-analyze security --offline=true --threshold=20 "$FLEET_UNIT" >"$T/fsecurity.out" 2>&1
	rc=$?
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' "$T/fsecurity.out")
	echo "systemd-analyze security --offline=true ns-metadata-proxy-fleet.service: exposure $score (at most 20 tenths allowed)"
	expect_code fleet-security-threshold 0 "$rc"
fi

# --- the capability bounding set --------------------------------------------
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null || ! command -v ip >/dev/null ||
	! command -v curl >/dev/null || ! getent passwd nobody >/dev/null || ! getent group nogroup >/dev/null; then
	skip capabilities "needs root, setpriv, ip, curl, python3 and the nobody user and nogroup group"
	finish
fi
NS=nmp-unit-$$
if ! ip netns add "$NS" 2>"$T/netns.err" || ! ip -n "$NS" link set lo up 2>>"$T/netns.err"; then
	skip capabilities "cannot make a network namespace: $(head -c 200 "$T/netns.err")"
	NS=
	finish
fi

# The unit's CapabilityBoundingSet as setpriv's list: +net_bind_service,...
CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' "$P/lib/systemd/system/$UNIT")
caps_but() { # CAP...: the unit's set without these
	local c out=-all skip
	for c in $CAPS; do
		for skip in "$@"; do [ "$c" = "$skip" ] && continue 2; done
		c=${c#CAP_}
		out+=",+${c,,}"
	done
	printf '%s' "$out"
}
assert caps-listed "CapabilityBoundingSet is not the four capabilities expected: '$CAPS'" \
	[ "$(tr ' ' '\n' <<<"$CAPS" | sort | tr '\n' ' ')" = "CAP_NET_BIND_SERVICE CAP_SETGID CAP_SETUID CAP_SYS_ADMIN " ]

# The agent where nobody can reach it.
AD=$T/agent
mkdir -p "$AD"
chmod 0711 "$T" "$AD"
ASOCK=$AD/a.sock
python3 "$AGENT" --socket "$ASOCK" --record "$AD/rec" </dev/null >"$AD/out" 2>"$AD/err" &
BG_PIDS+=("$!")
wait_until 50 said_ready "$AD/out"
chmod 0666 "$ASOCK" 2>/dev/null

# confined BOUNDING ARGS...: the installed binary under setpriv, as the unit
# would start it (root, the bounding set, no_new_privs, no inheritable or
# ambient capabilities).
confined() {
	setpriv --bounding-set "$1" --inh-caps -all --ambient-caps -all --nnp "${@:2}"
}

served() {
	[ "$(ip netns exec "$NS" curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 2 \
		http://127.0.0.1:80/latest/meta-data/ 2>/dev/null)" = 200 ]
}
cap_eff() { sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null; }
uid_of() { sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2>/dev/null; }

for engine in builtin haproxy; do
	if [ "$engine" = haproxy ] && [ ! -x /usr/sbin/haproxy ]; then
		skip caps-haproxy "no /usr/sbin/haproxy"
		continue
	fi
	S=$T/state-$engine
	mkdir -p "$S"
	A=(run --engine "$engine" --network-id "$ID" --state-path "$S" --netns "$NS"
		--metadata-port 80 --metadata-proxy-socket "$ASOCK"
		--metadata-proxy-user nobody --metadata-proxy-group nogroup)
	# setpriv execs: the pid is the proxy's (no shell function in between).
	setpriv --bounding-set "$(caps_but)" --inh-caps -all --ambient-caps -all --nnp \
		"$IBIN" "${A[@]}" </dev/null >"$T/$engine.out" 2>&1 &
	pid=$!
	BG_PIDS+=("$pid")
	if wait_until -p "$pid" 50 served; then
		ok "caps-$engine-serves"
		assert "caps-$engine-uid" "the serving process runs as uid $(uid_of "$pid"), not nobody" [ "$(uid_of "$pid")" = 65534 ]
		assert "caps-$engine-none-left" "the serving process keeps capabilities $(cap_eff "$pid")" [ "$(cap_eff "$pid")" = 0000000000000000 ]
	else
		fail "caps-$engine-serves" "no 200 on port 80 in $NS: $(escape_file "$T/$engine.out" 300)"
	fi
	kill -TERM "$pid" 2>/dev/null
	bg_reap "$pid"
done

# Each capability is needed: without it the start fails, and says why.
# without NAME CAP WANT_CODE GREP: a built-in start without CAP.
without() {
	local S=$T/state-$1
	mkdir -p "$S"
	confined "$(caps_but "$2")" timeout 20 "$IBIN" run --engine builtin --network-id "$ID" \
		--state-path "$S" --netns "$NS" --metadata-port 80 --metadata-proxy-socket "$ASOCK" \
		--metadata-proxy-user nobody --metadata-proxy-group nogroup </dev/null >"$T/out" 2>"$T/err"
	expect_code "needs-$1" "$3" $?
	assert "needs-$1-says" "stderr does not say '$4': $(escape_file "$T/err" 300)" grep -q -- "$4" "$T/err"
}
without sys-admin CAP_SYS_ADMIN 77 "entering the network namespace /run/netns/$NS: Operation not permitted"
without net-bind CAP_NET_BIND_SERVICE 77 'binding the listeners on 0.0.0.0 port 80: Permission denied'
without setuid CAP_SETUID 77 'dropping privileges: Operation not permitted'
without setgid CAP_SETGID 77 'dropping privileges: Operation not permitted'

finish
