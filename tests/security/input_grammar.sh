#!/bin/bash
# Attack: values that look harmless but leave the grammar of DESIGN.md.
#   - Decimal numbers with a leading zero: "--metadata-proxy-user 00" was
#     uid 0 (root), "--metadata-proxy-group 010" gid 8 to anything reading
#     C's octal prefix, "--metadata-port 080" port 80;
#   - interface names with ':' (Linux refuses it in a name) or a leading '-'
#     (read as an option by ip(8) and the like).
# One hostile value per rule and per family of options - the port, a user
# and a group (the same grammar), a haproxy time, a plain count - spelled
# with dashes or neutron's underscores, as --opt=v or --opt v, through
# render or run: exit 65, one escaped stderr line naming the option as
# spelled, the value and the reason; nothing on stdout, haproxy never
# exec'd, the state tree unchanged. The haproxy front refuses the same
# values in a config (65, naming the file and line). The boundaries stay
# accepted: "0" where zero is in range, "10", "tap0123abcd-ef", "lo".
# (Every option of each family and every spelling is covered by
# tests/unit/test_cli.c and test_validate.c; this is the black-box check.)
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

ZERO='has a leading zero'
COLON='contains a character outside [A-Za-z0-9_.-]'
DASH="starts with '-'"

# Command, the option as spelled, the form (= or a blank), the value, the
# reason, and what else the line needs.
BAD=(
	"run|metadata-port| |080|$ZERO|"
	"render|metadata-proxy-user| |00|$ZERO|"
	"run|metadata_proxy_group|=|010|$ZERO|"
	"render|timeout-client|=|032s|$ZERO|"
	"run|stop_timeout| |00|$ZERO|"
	"render|max-body-size|=|065536|$ZERO|"
	"run|bind-interface| |tap:1|$COLON|--bind-address-v6 ::1"
	"render|bind_interface|=|-tap|$DASH|--bind-address-v6 ::1"
)
BEFORE=$(snapshot "$W")
for entry in "${BAD[@]}"; do
	IFS='|' read -r cmd spelled form val why extra <<<"$entry"
	ARGV=(--network-id "$ID" --state-path "$S" --haproxy-path "$FAKE"
		--bind-address 127.0.0.1)
	# The user and group of the line give way to the option under test.
	case $spelled in *user) ;; *) ARGV+=(--metadata-proxy-user "$NMP_USER") ;; esac
	case $spelled in *group) ;; *) ARGV+=(--metadata-proxy-group "$NMP_GROUP") ;; esac
	# shellcheck disable=SC2206 # extra is a few plain words
	[ -n "$extra" ] && ARGV+=($extra)
	if [ "$form" = = ]; then
		ARGV+=("--$spelled=$val")
	else
		ARGV+=("--$spelled" "$val")
	fi
	name="$cmd --$spelled$form'$val'"
	runf "$cmd" "${ARGV[@]}"
	refused "$name" 65 "invalid value for --$spelled: '$val': $why"
	not_run "$name"
done
same_snapshot "hostile values: state tree unchanged" "$BEFORE" "$W"

# --- the haproxy front: the same grammar in a config ----------------------
# A config neutron's agents would write, then one line changed: the front
# must refuse it (65) naming the line, and start nothing.
H=$W/front
mkdir -m 0755 "$H"
front_conf() { # LINE-NUMBER REPLACEMENT -> $H/c.conf
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
    bind 127.0.0.1:9697
    bind ::1:9697 interface lo
    server metadata $W/agent.sock
    http-request del-header X-Neutron-Router-ID
    http-request set-header X-Neutron-Network-ID $ID
EOF
	chmod 0600 "$H/c.conf"
}
FRONT_BAD=(
	"14|    bind 127.0.0.1:09697|$ZERO"
	"3|    user 00|$ZERO"
	"12|    timeout client 032s|$ZERO"
	"5|    maxconn 01024|$ZERO"
	"15|    bind ::1:9697 interface tap:1|$COLON"
	"15|    bind ::1:9697 interface -tap|$DASH"
)
BEFORE=$(snapshot "$S")
for t in "${FRONT_BAD[@]}"; do
	IFS='|' read -r line text why <<<"$t"
	front_conf "$line" "$text"
	name="haproxy front: '${text#    }'"
	# -c: should a line be accepted by mistake, nothing starts serving.
	runf haproxy -c -f "$H/c.conf"
	refused "$name" 65 "'$H/c.conf' line $line:" "$why"
	not_run "$name"
done
same_snapshot "haproxy front: state tree unchanged" "$BEFORE" "$S"
check "haproxy front: nothing made beside the config" "$(ls -A "$H" | tr '\n' ' ')" "c.conf "
# The boundaries, in one config: port 10, interface tap0123abcd-ef, user 0
# when root.
front_conf 14 "    bind 127.0.0.1:10"
if [ "$IS_ROOT" -eq 1 ]; then
	sed -i 's/^    user .*/    user 0/' "$H/c.conf"
fi
sed -i 's/^    bind ::1:9697 interface lo/    bind ::1:10 interface tap0123abcd-ef/' "$H/c.conf"
runb haproxy -c -f "$H/c.conf"
expect_code "haproxy front -c: port 10, interface tap0123abcd-ef, user 0 (root) accepted" 0 "$RC"

# --- controls: the boundary values are still accepted -----------------------
G=$W/good
mkdir -m 0755 "$G"
U=$NMP_USER
[ "$IS_ROOT" -eq 1 ] && U=0
# render: port 10, user and group 0 when root (root by its id), "0" where
# zero is in range, an interface with '-' inside.
BEFORE=$(snapshot "$G")
runf render --network-id "$ID" --state-path "$G" --metadata_port=10 \
	--metadata-proxy-user "$U" --metadata_proxy_group="$U" --stop-timeout 0 \
	--max-body-size 0 --timeout-client 10s \
	--bind-address-v6 ::1 --bind_interface=tap0123abcd-ef
expect_code "render with boundary values" 0 "$RC"
for want in " name 0.0.0.0:10" "%tap0123abcd-ef" "timeout client          10s" \
	"user        $(getent passwd "$U" | cut -d: -f1)"; do
	assert "render with boundary values: '$want'" "not in: $(escape_file "$T/out" 900)" \
		grep -qF -- "$want" "$T/out"
done
same_snapshot "render writes nothing" "$BEFORE" "$G"

# run: the config is written and haproxy exec'd (the interface lo: it must
# exist, as the listener is bound to it).
PORT=
pick_port
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
no_process_with "input grammar" "$T"

finish
