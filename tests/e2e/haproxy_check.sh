#!/bin/bash
# Every rendered variant is a config the real haproxy accepts, both through
# `check` and independently (`haproxy -c` on the `render` output); `check`
# finds haproxy only by trusted absolute path, runs it with a clean
# environment and no inherited descriptors, and leaves nothing behind.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HAPROXY=/usr/sbin/haproxy
CHECKDIRS=/tmp/ns-metadata-proxy-check.

S=$T/state
mkdir -m 0755 "$S"
# As a run would leave it: check must not touch any of it.
mkdir -m 0700 "$S/ns-metadata-proxy"
printf 'previous config\n' >"$S/ns-metadata-proxy/$ID.conf"
chmod 0600 "$S/ns-metadata-proxy/$ID.conf"
STATE_BEFORE=$(snapshot "$S")

A=(--state-path "$S" --metadata-proxy-user "$NMP_USER" --metadata-proxy-group "$NMP_GROUP")
N=(--network-id "$ID")

have_haproxy=1
if [ -f "$HAPROXY" ] && [ -x "$HAPROXY" ]; then
	ok "haproxy installed"
else
	have_haproxy=0
	fail "haproxy installed" "$HAPROXY is missing: the test setup must install haproxy"
fi

# lacks ERE FILE: FILE exists and has no line matching ERE.
lacks() { [ -f "$2" ] && ! grep -Eq -- "$1" "$2"; }

check_dirs() {
	ls -1d "$CHECKDIRS"* 2>/dev/null | sort
}

# no_check_dir_left NAME BEFORE: no new /tmp/ns-metadata-proxy-check.*.
# Another test running `check` at the same time (ctest -j) makes such dirs
# for a moment: a new one only counts if it is still there 2 s later.
no_check_dir_left() {
	local new d still=""
	new=$(comm -13 <(printf '%s\n' "$2") <(check_dirs))
	if [ -n "$new" ]; then
		sleep 2
		for d in $new; do
			[ -e "$d" ] && still+="$d"$'\n'
		done
		new=${still%$'\n'}
	fi
	if [ -z "$new" ]; then
		ok "$1"
	else
		fail "$1" "left behind: $(echo "$new" | tr '\n' ' ')"
	fi
}

# The config names its listeners bind fd@5 and fd@6, which haproxy inherits
# from the launcher that bound them; haproxy -c needs a socket there.
# shellcheck disable=SC2016
STAND_INS='
import os, socket, sys
socks = [socket.socket(socket.AF_INET6) for _ in range(2)]
for fd, s in zip((5, 6), socks):
    if s.fileno() == fd:
        os.set_inheritable(fd, True)
    else:
        os.dup2(s.fileno(), fd)
os.execv(sys.argv[1], sys.argv[1:])
'

# variant NAME PATTERN ARGS...: `check ARGS` says valid, `render ARGS` has a
# line matching the extended regex PATTERN and passes haproxy -c itself.
variant() {
	local name=$1 pattern=$2 dirs
	shift 2
	dirs=$(check_dirs)
	runb check "$@"
	expect_code "$name: check exit" 0 "$RC"
	if grep -q 'is valid' "$T/out"; then
		ok "$name: check says valid"
	else
		fail "$name: check says valid" "stdout: $(escape_file "$T/out")$(stderr_note)"
	fi
	no_check_dir_left "$name: check leaves no temporary dir" "$dirs"

	runb render "$@"
	expect_code "$name: render exit" 0 "$RC"
	cp "$T/out" "$T/variant.cfg"
	if grep -Eq -- "$pattern" "$T/variant.cfg"; then
		ok "$name: rendered"
	else
		fail "$name: rendered" "no line matching '$pattern' in the render output"
	fi
	if [ "$have_haproxy" -eq 0 ]; then
		fail "$name: haproxy -c" "$HAPROXY is missing"
		return
	fi
	timeout 20 python3 -c "$STAND_INS" "$HAPROXY" -c -f "$T/variant.cfg" >"$T/hc.out" 2>&1
	local rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$name: haproxy -c"
	else
		fail "$name: haproxy -c" "exit $rc: $(escape_file "$T/hc.out" 800)"
	fi
	if grep -Eq '\[(WARNING|ALERT)\]' "$T/hc.out"; then
		fail "$name: haproxy -c is quiet" "$(grep -E '\[(WARNING|ALERT)\]' "$T/hc.out" | head -n 3 | tr '\n' ' ')"
	else
		ok "$name: haproxy -c is quiet"
	fi
}

SOCK97=/tmp/$(printf 's%.0s' $(seq 92)) # 97 bytes: the most haproxy takes
LONGSTATE=$T/$(printf 'p%.0s' $(seq $((97 - ${#T} - 1 - 15))))
mkdir -m 0755 "$LONGSTATE" # its default socket is exactly 97 bytes

variant "neutron network" "set-header X-Neutron-Network-ID $ID\$" \
	"${N[@]}" "${A[@]}"
variant "neutron router" "set-header X-Neutron-Router-ID $ID2\$" \
	--router-id "$ID2" "${A[@]}"
variant "ovn" "set-header X-OVN-Network-ID $ID\$" \
	"${N[@]}" "${A[@]}" --flavor ovn
variant "ipv4 bind" "^ +bind fd@5 name 169\.254\.169\.254:9697\$" \
	"${N[@]}" "${A[@]}" --bind-address 169.254.169.254
variant "ipv6 bind ::" "^ +bind fd@5 name \[::\]:9697\$" \
	"${N[@]}" "${A[@]}" --bind-address ::
variant "ipv6 bind, canonical text" "^ +bind fd@5 name \[fd00::1\]:80\$" \
	"${N[@]}" "${A[@]}" --bind-address fd00:0:0::0001 --metadata-port 80
variant "extra ipv6 bind" "^ +bind fd@6 name \[fe80::a9fe:a9fe\]:9697%lo\$" \
	"${N[@]}" "${A[@]}" --bind-address-v6 fe80::a9fe:a9fe --bind-interface lo
variant "rate limit ipv4" "stick-table type ip size" \
	"${N[@]}" "${A[@]}" --rate-limit-enabled --rate-limit-ip-version 4
variant "rate limit ipv6" "stick-table type ipv6 size" \
	"${N[@]}" "${A[@]}" --rate-limit-enabled --rate-limit-ip-version 6
variant "rate limit, ipv4 family, ipv6 listener" "stick-table type ipv6 size" \
	"${N[@]}" "${A[@]}" --bind-address :: --rate-limit-enabled --rate-limit-ip-version 4
variant "rate limit windows" "acl nmp_burst_rate src_http_req_rate\(burst_rate_limiter\) gt 20\$" \
	"${N[@]}" "${A[@]}" --rate-limit-enabled --base-window-duration 60 \
	--base-query-rate-limit 100 --burst-window-duration 5 --burst-query-rate-limit 20
variant "rate limit off again" "^listen listener\$" \
	"${N[@]}" "${A[@]}" --rate-limit-enabled --norate-limit-enabled
variant "custom timeouts" "^ +timeout connect +250ms\$" \
	"${N[@]}" "${A[@]}" --timeout-http-request 5s --timeout-connect 250ms \
	--timeout-client 2m --timeout-server 1h --timeout-http-keep-alive 1500
variant "timeout in microseconds" "^ +timeout client +1ms\$" \
	"${N[@]}" "${A[@]}" --timeout-client 10us
variant "debug" "^ +log +/dev/log local0 debug\$" \
	"${N[@]}" "${A[@]}" --debug
variant "socket of 97 bytes" "^ +server metadata $SOCK97\$" \
	"${N[@]}" "${A[@]}" --metadata-proxy-socket "$SOCK97"
variant "default socket of 97 bytes" "^ +server metadata $LONGSTATE/metadata_proxy\$" \
	"${N[@]}" --state-path "$LONGSTATE" --metadata-proxy-user "$NMP_USER" \
	--metadata-proxy-group "$NMP_GROUP"
variant "neutron's own command line" "^ +server metadata /var/lib/neutron/metadata_proxy\$" \
	--network_id="$ID" --state_path="$S" --metadata_proxy_socket=/var/lib/neutron/metadata_proxy \
	--metadata_proxy_user="$NMP_USER" --metadata_proxy_group="$NMP_GROUP" \
	--metadata_port=9697 --nometadata_proxy_watch_log --pid_file=/var/lib/neutron/external/pids/x.pid
variant "user and group by number" "^ +user +$(id -un)\$" \
	"${N[@]}" --state-path "$S" --metadata-proxy-user "$(id -u)" --metadata-proxy-group "$(id -g)"
# Issue 12: the per-source cap and the body cap, on (the defaults above),
# off, small, at their largest, and with the rate limiter's counters.
variant "default caps" "^ +tune\.bufsize 73728\$" \
	"${N[@]}" "${A[@]}"
variant "caps off" "^ +acl nmp_hugelen req\.hdr\(content-length\)" \
	"${N[@]}" "${A[@]}" --max-conns-per-source 0 --max-body-size 0
variant "body cap in haproxy's own buffer" "at-least 8193\$" \
	"${N[@]}" "${A[@]}" --max-body-size 8192 --max-conns-per-source 1
variant "body cap of 1 MiB" "^ +tune\.bufsize 1056768\$" \
	"${N[@]}" "${A[@]}" --max-body-size 1048576
variant "body cap over 1 MiB: length only" "^ +acl nmp_bigbody req\.body_size gt 1073741824\$" \
	"${N[@]}" "${A[@]}" --max-body-size 1073741824 --max-conns-per-source 65535
variant "caps with the rate limiter, ipv6" "^ +tcp-request connection track-sc2 src table per_source\$" \
	"${N[@]}" "${A[@]}" --rate-limit-enabled --bind-address :: --max-conns-per-source 2
variant "longest request timeout" "^ +http-request wait-for-body time 2147483647ms at-least 65537\$" \
	"${N[@]}" "${A[@]}" --timeout-http-request 2147483647ms
variant "ovn, everything on" "^ +bind fd@5 name \[::\]:8775\$" \
	"${N[@]}" "${A[@]}" --flavor ovn --bind-address :: --metadata-port 8775 \
	--bind-address-v6 fe80::a9fe:a9fe --bind-interface lo --rate-limit-enabled \
	--rate-limit-ip-version 6 --timeout-client 45s --debug --netns ovnmeta-"$ID"

# --- finding haproxy ---------------------------------------------------
# refused NAME CODE NEEDLE...: CODE, one escaped stderr line with each NEEDLE.
refused() {
	local name=$1 code=$2 needle
	shift 2
	expect_code "$name" "$code" "$RC"
	if one_line "$T/err" && no_control_chars "$T/err"; then
		ok "$name: one stderr line"
	else
		fail "$name: one stderr line" "$(stderr_note)"
	fi
	for needle in "$@"; do
		if grep -qF -- "$needle" "$T/err"; then
			ok "$name: names $needle"
		else
			fail "$name: names $needle" "$(stderr_note)"
		fi
	done
}

dirs=$(check_dirs)
runb check "${N[@]}" "${A[@]}" --haproxy-path /nonexistent/haproxy
refused "missing --haproxy-path" 69 --haproxy-path /nonexistent/haproxy
no_check_dir_left "missing --haproxy-path: no temporary dir" "$dirs"

HP=$T/hp
mkdir -m 0755 "$HP"
if [ "$have_haproxy" -eq 1 ]; then
	cp "$HAPROXY" "$HP/haproxy-ok"
	chmod 0755 "$HP/haproxy-ok"
	runb check "${N[@]}" "${A[@]}" --haproxy-path "$HP/haproxy-ok"
	expect_code "copy of haproxy, 0755: accepted" 0 "$RC"
	assert "copy of haproxy, 0755: named in the verdict" "stdout: $(escape_file "$T/out")" \
		grep -qF "($HP/haproxy-ok -c)" "$T/out"
	for mode in 0775 0757 0777; do
		cp "$HAPROXY" "$HP/haproxy-$mode"
		chmod "$mode" "$HP/haproxy-$mode"
		runb check "${N[@]}" "${A[@]}" --haproxy-path "$HP/haproxy-$mode"
		refused "haproxy copy mode $mode" 78 --haproxy-path "$HP/haproxy-$mode"
	done
	cp "$HAPROXY" "$HP/haproxy-0644"
	chmod 0644 "$HP/haproxy-0644"
	runb check "${N[@]}" "${A[@]}" --haproxy-path "$HP/haproxy-0644"
	refused "haproxy copy not executable" 69 --haproxy-path "$HP/haproxy-0644"
else
	fail "haproxy copies" "$HAPROXY is missing"
fi
runb check "${N[@]}" "${A[@]}" --haproxy-path "$HP"
refused "directory as --haproxy-path" 69 --haproxy-path "$HP"

# A hostile PATH: its haproxy is never run.
EVIL=$T/evil
mkdir -m 0755 "$EVIL"
cat >"$EVIL/haproxy" <<EOF
#!/bin/sh
: >"$T/evil-ran"
exit 0
EOF
chmod 0755 "$EVIL/haproxy"
dirs=$(check_dirs)
LAST_CMD="PATH=$EVIL:\$PATH $BIN check ..."
PATH="$EVIL:$PATH" timeout 20 "$BIN" check "${N[@]}" "${A[@]}" </dev/null >"$T/out" 2>"$T/err"
RC=$?
if [ "$have_haproxy" -eq 1 ]; then
	expect_code "hostile PATH: check" 0 "$RC"
	assert "hostile PATH: the system haproxy is used" "stdout: $(escape_file "$T/out")" \
		grep -qF "($HAPROXY -c)" "$T/out"
fi
assert "hostile PATH: the PATH's haproxy never runs" "marker $T/evil-ran exists" \
	[ ! -e "$T/evil-ran" ]
no_check_dir_left "hostile PATH: no temporary dir" "$dirs"

# --- how haproxy is run: a stand-in records what it gets ----------------
REC=$T/rec
mkdir -m 0755 "$REC"
cat >"$HP/recorder" <<EOF
#!/bin/sh
# argv, environment, descriptors 3-9, the temporary config and its dir.
printf '%s\n' "\$@" >"$REC/argv"
env >"$REC/env"
for fd in 3 4 5 6 7 8 9; do
	[ -e /proc/\$\$/fd/\$fd ] && echo "\$fd \$(readlink /proc/\$\$/fd/\$fd)"
done >"$REC/fds"
cfg=\$4
cp "\$cfg" "$REC/config"
stat -c '%a %u %F' "\$cfg" >"$REC/cfgstat"
stat -c '%a %u %F' "\${cfg%/*}" >"$REC/dirstat"
ls -A "\${cfg%/*}" >"$REC/dirlist"
echo "\${cfg%/*}" >"$REC/dir"
exit \${RECORDER_EXIT:-0}
EOF
chmod 0755 "$HP/recorder"
dirs=$(check_dirs)
LAST_CMD="$BIN check ... --haproxy-path $HP/recorder (with fd 9, LD_LIBRARY_PATH, NMP_EVIL)"
NMP_EVIL=1 LD_LIBRARY_PATH=/nonexistent-nmp timeout 20 "$BIN" check "${N[@]}" "${A[@]}" \
	--haproxy-path "$HP/recorder" </dev/null >"$T/out" 2>"$T/err" 9>"$T/leak"
RC=$?
expect_code "recorder: check" 0 "$RC"
assert "recorder: verdict names it" "stdout: $(escape_file "$T/out")" grep -qF "($HP/recorder -c)" "$T/out"
tmpdir=$(cat "$REC/dir" 2>/dev/null)
want_argv=$(printf '%s\n' -c -q -f "$tmpdir/$ID.conf")
assert "recorder: argv is -c -q -f <tmp>/<uuid>.conf" "argv: $(escape_file "$REC/argv")" \
	[ -s "$REC/argv" -a "$(cat "$REC/argv" 2>/dev/null)" = "$want_argv" ]
case $tmpdir in
"$CHECKDIRS"??????) ok "recorder: private dir under /tmp" ;;
*) fail "recorder: private dir under /tmp" "config dir '$tmpdir'" ;;
esac
assert "recorder: clean environment" "env: $(escape_file "$REC/env")" \
	lacks '^(LD_|NMP_EVIL=)' "$REC/env"
assert "recorder: fixed PATH" "env: $(escape_file "$REC/env")" \
	grep -qx 'PATH=/usr/sbin:/usr/bin:/sbin:/bin' "$REC/env"
# Only the stand-in socket for the config's bind fd@5.
assert "recorder: a socket at fd 5 for bind fd@5" "open: $(escape_file "$REC/fds")" \
	grep -qE '^5 socket:' "$REC/fds"
assert "recorder: no other inherited descriptor above 2" "open: $(escape_file "$REC/fds")" \
	[ -z "$(grep -vE '^5 socket:' "$REC/fds")" ]
assert "recorder: temporary config 0600, ours" "$(cat "$REC/cfgstat" 2>/dev/null)" \
	[ "$(cat "$REC/cfgstat" 2>/dev/null)" = "600 $(id -u) regular file" ]
assert "recorder: temporary dir 0700, ours" "$(cat "$REC/dirstat" 2>/dev/null)" \
	[ "$(cat "$REC/dirstat" 2>/dev/null)" = "700 $(id -u) directory" ]
assert "recorder: only the config in the temporary dir" "$(escape_file "$REC/dirlist")" \
	[ "$(cat "$REC/dirlist" 2>/dev/null)" = "$ID.conf" ]
runb render "${N[@]}" "${A[@]}"
if cmp -s "$T/out" "$REC/config"; then
	ok "recorder: checks exactly the render output"
else
	fail "recorder: checks exactly the render output" "$(diff "$T/out" "$REC/config" | head -n 4 | tr '\n' ' ')"
fi
assert "recorder: temporary dir removed" "still there: $tmpdir" [ ! -e "$tmpdir" ]
no_check_dir_left "recorder: no temporary dir" "$dirs"

# A haproxy that rejects the config: 65, cleaned up all the same.
dirs=$(check_dirs)
LAST_CMD="RECORDER_EXIT=1 $BIN check ... --haproxy-path $HP/recorder"
RECORDER_EXIT=1 timeout 20 "$BIN" check "${N[@]}" "${A[@]}" --haproxy-path "$HP/recorder" \
	</dev/null >"$T/out" 2>"$T/err"
RC=$?
expect_code "recorder: environment does not leak into the exit code" 0 "$RC"
sed -i 's/exit \${RECORDER_EXIT:-0}/exit 1/' "$HP/recorder"
runb check "${N[@]}" "${A[@]}" --haproxy-path "$HP/recorder"
refused "haproxy rejects the config" 65 "$ID"
no_check_dir_left "haproxy rejects the config: no temporary dir" "$dirs"

same_snapshot "check writes nothing under the state path" "$STATE_BEFORE" "$S"

finish
