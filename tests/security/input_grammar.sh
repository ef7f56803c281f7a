#!/bin/bash
# Attack: values that look harmless but leave the grammar of DESIGN.md.
#   - Decimal numbers with a leading zero: "--metadata-proxy-user 00" was
#     uid 0 (root), "--metadata-proxy-group 010" gid 8 to anything reading
#     C's octal prefix, "--metadata-port 080" port 80. Every decimal option
#     (port, user, group, timeouts, rate limits, stop timeout) refuses them;
#     "0" alone stays zero where zero is in range.
#   - Interface names with ':' (Linux refuses it in a name) or a leading '-'
#     (read as an option by ip(8) and the like).
# Each hostile value, for each affected option, in turn in the dash and
# neutron's underscore spelling, as `--opt=v` and `--opt v`, with `render`
# and `run` (each of the eight ways taken in rotation, so every option
# meets several and the suite stays quick):
# exit 65, one escaped stderr line naming the option as spelled, the value
# and the reason; nothing on stdout, the state tree unchanged, haproxy never
# exec'd. The haproxy front refuses the same values in a config. Then the
# good boundary values ("0" where allowed, "1", "65535", "lo",
# "tap0123abcd-ef", "eth0.100") are still accepted.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/fs_lib.sh"

W=$T/w
S=$W/state
mkdir -m 0755 "$W" "$S"
cd "$W" || exit 2
# A state tree as a previous run leaves it.
mkdir -m 0700 "$S/ns-metadata-proxy"
printf 'previous config\n' >"$S/ns-metadata-proxy/$ID.conf"
chmod 0600 "$S/ns-metadata-proxy/$ID.conf"
mkdir -m 0755 "$S/external" "$S/external/pids"

BASE=(--network-id "$ID" --state-path "$S" --haproxy-path "$FAKE"
	--bind-address 127.0.0.1)
ZERO='has a leading zero'
COLON='contains a character outside [A-Za-z0-9_.-]'
DASH="starts with '-'"

# Options: name, a reason, the options they need beside them, and the
# hostile values (space-separated; none holds a blank).
OPTS=(
	"metadata-port|$ZERO||080 09697 00 065535"
	"metadata-proxy-user|$ZERO||00 000 010 0001000"
	"metadata-proxy-group|$ZERO||00 010 0000"
	"timeout-http-request|$ZERO||030s 00 010"
	"timeout-connect|$ZERO||030s 0001ms"
	"timeout-client|$ZERO||032s 00s"
	"timeout-server|$ZERO||032s 01m"
	"timeout-http-keep-alive|$ZERO||030000 01000us"
	"rate-limit-ip-version|$ZERO|--rate-limit-enabled|04 06"
	"base-window-duration|$ZERO|--rate-limit-enabled|010 01"
	"base-query-rate-limit|$ZERO|--rate-limit-enabled|010 01"
	"burst-window-duration|$ZERO|--rate-limit-enabled|010 01"
	"burst-query-rate-limit|$ZERO|--rate-limit-enabled|010 01"
	"stop-timeout|$ZERO||00 05 03600"
	"bind-interface|$COLON|--bind-address-v6 ::1|tap:1 eth0:0 lo:1 : tap0123abcd:e"
	"bind-interface|$DASH|--bind-address-v6 ::1|-tap -tap0123abcd-ef - -h --help"
)

# build OPT SPELLING FORM VALUE EXTRA: the command line in ARGV. The user
# and group of the base line give way to the option under test.
build() {
	local opt=$1 spelled=$2 form=$3 val=$4 extra=$5
	ARGV=("${BASE[@]}")
	[ "$opt" = metadata-proxy-user ] || ARGV+=(--metadata-proxy-user "$NMP_USER")
	[ "$opt" = metadata-proxy-group ] || ARGV+=(--metadata-proxy-group "$NMP_GROUP")
	# shellcheck disable=SC2206 # extra is a few plain words
	[ -n "$extra" ] && ARGV+=($extra)
	if [ "$form" = eq ]; then
		ARGV+=("--$spelled=$val")
	else
		ARGV+=("--$spelled" "$val")
	fi
}

BEFORE=$(snapshot "$W")
N=0
K=0
for entry in "${OPTS[@]}"; do
	IFS='|' read -r opt why extra vals <<<"$entry"
	read -r -a values <<<"$vals"
	for val in "${values[@]}"; do
		spelled=$opt
		[ $((K & 1)) -eq 1 ] && spelled=${opt//-/_}
		form=eq
		[ $((K & 2)) -eq 2 ] && form=sp
		cmd=render
		[ $((K & 4)) -eq 4 ] && cmd=run
		K=$((K + 1))
		build "$opt" "$spelled" "$form" "$val" "$extra"
		sep=' '
		[ "$form" = eq ] && sep='='
		name="$cmd --$spelled$sep'$val'"
		runf "$cmd" "${ARGV[@]}"
		refused "$name" 65 "invalid value for --$spelled: '$val': $why"
		not_run "$name"
		N=$((N + 1))
	done
	same_snapshot "--$opt ($why): state tree unchanged" "$BEFORE" "$W"
done
no_process_with "hostile values" "$T"
echo "$N hostile command lines refused"

# --- the haproxy front: the same grammar in a config ----------------------
# A config neutron's agents would write, then one line changed: the front
# must refuse it (65) naming the line, and start nothing.
H=$W/front
mkdir -m 0755 "$H"
front_conf() { # LINE-NUMBER REPLACEMENT [PORT] -> $H/c.conf
	awk -v l="$1" -v t="$2" 'NR == l { print t; next } { print }' >"$H/c.conf" <<EOF
global
    log /dev/log local0 info
    user $NMP_USER
    group $NMP_GROUP
    maxconn 1024
    pidfile $H/front.pid
    daemon
defaults
    log global
    mode http
    option forwardfor
    timeout client 32s
listen listener
    bind 127.0.0.1:${3:-9697}
    bind ::1:${3:-9697} interface lo
    server metadata $W/agent.sock
    http-request del-header X-Neutron-Router-ID
    http-request set-header X-Neutron-Network-ID $ID
EOF
	chmod 0600 "$H/c.conf"
}
FRONT_BAD=(
	"15|    bind ::1:9697 interface tap:1|$COLON"
	"15|    bind ::1:9697 interface eth0:0|$COLON"
	"15|    bind ::1:9697 interface -tap|$DASH"
	"15|    bind ::1:9697 interface -|$DASH"
	"14|    bind 127.0.0.1:09697|$ZERO"
	"14|    bind 127.0.0.1:080|$ZERO"
	"5|    maxconn 01024|$ZERO"
	"12|    timeout client 032s|$ZERO"
	"12|    timeout client 00|$ZERO"
	"3|    user 00|$ZERO"
	"4|    group 010|$ZERO"
)
for t in "${FRONT_BAD[@]}"; do
	IFS='|' read -r line text why <<<"$t"
	front_conf "$line" "$text"
	name="haproxy front: '${text#    }'"
	before=$(snapshot "$W")
	# -c: should a line be accepted by mistake, nothing starts serving.
	runf haproxy -c -f "$H/c.conf"
	refused "$name" 65 "'$H/c.conf' line $line:" "$why"
	not_run "$name"
	same_snapshot "$name: tree unchanged" "$before" "$W"
done
for iface in lo tap0123abcd-ef eth0.100; do
	front_conf 15 "    bind ::1:9697 interface $iface"
	runb haproxy -c -f "$H/c.conf"
	expect_code "haproxy front -c: interface $iface accepted" 0 "$RC"
done
for port in 1 65535; do
	front_conf 1 global "$port"
	runb haproxy -c -f "$H/c.conf"
	expect_code "haproxy front -c: port $port accepted" 0 "$RC"
done
if [ "$IS_ROOT" -eq 1 ]; then
	front_conf 3 "    user 0"
	runb haproxy -c -f "$H/c.conf"
	expect_code "haproxy front -c: user 0 accepted" 0 "$RC"
fi

# --- controls: the good boundary values are still accepted ----------------
G=$W/good
mkdir -m 0755 "$G"
GOOD=(--network-id "$ID" --state-path "$G" --haproxy-path "$FAKE"
	--metadata-proxy-user "$NMP_USER" --metadata-proxy-group "$NMP_GROUP")

# accept_render NAME WANT-LINE ARGS...: render exits 0 and prints WANT-LINE
# (a fixed string), writing nothing.
accept_render() {
	local name=$1 want=$2 before
	shift 2
	before=$(snapshot "$G")
	runf render "${GOOD[@]}" "$@"
	expect_code "$name: render" 0 "$RC"
	if grep -qF -- "$want" "$T/out"; then
		ok "$name: rendered"
	else
		fail "$name: rendered" "no '$want' in: $(escape_file "$T/out" 900)"
	fi
	same_snapshot "$name: render writes nothing" "$before" "$G"
}

accept_render "--metadata-port=1" " name 0.0.0.0:1" --metadata-port=1
accept_render "--metadata_port 65535" " name 0.0.0.0:65535" --metadata_port 65535
accept_render "--metadata-port 10" " name 0.0.0.0:10" --metadata-port 10
accept_render "--bind-interface lo" "%lo" --bind-address-v6 ::1 --bind-interface lo
accept_render "--bind_interface=tap0123abcd-ef" "%tap0123abcd-ef" \
	--bind_address_v6=::1 --bind_interface=tap0123abcd-ef
accept_render "--bind-interface a-b_c.0" "%a-b_c.0" \
	--bind-address-v6 ::1 --bind-interface a-b_c.0
accept_render "--timeout-client 1" "timeout client          1ms" --timeout-client 1
accept_render "--timeout_client=10s" "timeout client          10s" --timeout_client=10s
accept_render "--stop-timeout 0" "listen listener" --stop-timeout 0
accept_render "--stop_timeout=3600" "listen listener" --stop_timeout=3600
accept_render "--rate-limit-ip-version 4, rates 1" "listen listener" \
	--rate-limit-enabled --rate-limit-ip-version 4 --base-window-duration 1 \
	--base-query-rate-limit 1 --burst_window_duration=1 --burst_query_rate_limit=1
if [ "$IS_ROOT" -eq 1 ]; then
	for v in 0 1; do
		runf render --network-id "$ID" --state-path "$G" \
			--metadata-proxy-user "$v" "--metadata_proxy_group=$v"
		expect_code "--metadata-proxy-user $v --metadata_proxy_group=$v: render" 0 "$RC"
		want=$(getent passwd "$v" | cut -d: -f1)
		if grep -qE "^ +user +$want\$" "$T/out"; then
			ok "user $v resolves to '$want'"
		else
			fail "user $v resolves to '$want'" "$(escape_file "$T/out" 400)"
		fi
	done
else
	skip "user and group 0" "not root"
fi

# run: the config is written and haproxy exec'd, with the boundary values a
# local run can take (a free port, the interface lo, user 0 when root).
PORT=
pick_port
U=$NMP_USER
[ "$IS_ROOT" -eq 1 ] && U=0
runf run --network-id "$ID" --state-path "$G" --haproxy-path "$FAKE" \
	--metadata-proxy-user "$U" --metadata_proxy_group="$U" \
	--bind-address 127.0.0.1 --metadata-port "$PORT" \
	--bind-address-v6 ::1 --bind_interface=lo --stop-timeout 0
expect_code "run with boundary values" 0 "$RC"
if [ "$(cat "$FAKE_REC" 2>/dev/null)" = "$(printf '%s\n' -f "$G/ns-metadata-proxy/$ID.conf")" ]; then
	ok "run with boundary values: execs haproxy -f <config>"
else
	fail "run with boundary values: execs haproxy -f <config>" \
		"argv: $(escape_file "$FAKE_REC" 2>/dev/null)$(stderr_note)"
fi
assert "run with boundary values: config names lo" "$(escape_file "$G/ns-metadata-proxy/$ID.conf" 900 2>/dev/null)" \
	grep -qF "%lo" "$G/ns-metadata-proxy/$ID.conf"
runb cleanup --network-id "$ID" --state-path "$G"
expect_code "cleanup" 0 "$RC"

finish
