#!/bin/bash
# Bad command lines: each must fail with its documented exit code and one
# stderr line that names the option (or the offending word), shows values
# escaped, and must leave the state directory - which already holds a config
# directory and a config file - byte for byte as it was.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

W=$T/w
S=$W/state
CWD=$W/cwd # the working directory: a relative path must not land here
mkdir -p "$S" "$CWD"
cd "$CWD" || exit 2

# A state dir as a previous successful run leaves it, in both flavours.
fresh_state() {
	rm -rf "$S"
	mkdir -m 0755 "$S"
	mkdir -m 0700 "$S/ns-metadata-proxy" "$S/ovn-metadata-proxy"
	printf 'previous neutron config\n' >"$S/ns-metadata-proxy/$ID.conf"
	printf 'previous ovn config\n' >"$S/ovn-metadata-proxy/$ID.conf"
	chmod 0600 "$S/ns-metadata-proxy/$ID.conf" "$S/ovn-metadata-proxy/$ID.conf"
}

# `run` execs haproxy in place: should a row be accepted by mistake, this
# stand-in runs (and says so) rather than a real proxy.
mkdir -m 0755 "$T/bin"
FAKE=$T/bin/haproxy
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s"\nexit 0\n' "$T/fake.argv" >"$FAKE"
chmod 0755 "$FAKE"

ST=(--state-path "$S")
US=(--metadata-proxy-user "$NMP_USER")
GR=(--metadata-proxy-group "$NMP_GROUP")
HP=(--haproxy-path "$FAKE")
A=("${ST[@]}" "${US[@]}" "${GR[@]}" "${HP[@]}")
N=(--network-id "$ID")
NL=$'\n'
LONG_SOCK=/$(printf 'a%.0s' $(seq 97)) # 98 bytes, haproxy takes 97

ROW=0
# bad CODE NEEDLES ARGS...: NEEDLES is a '|'-separated list of fixed strings
# the stderr line must contain.
bad() {
	local code=$1 needles=$2 name before needle
	local -a list
	shift 2
	ROW=$((ROW + 1))
	name="row $ROW [$(quote_cmd "$@")]"
	fresh_state
	before=$(snapshot "$W")
	rm -f "$T/fake.argv"
	runb "$@"
	expect_code "$name exit" "$code" "$RC"
	if one_line "$T/err"; then
		ok "$name"
	else
		fail "$name one-line" "stderr is not exactly one line$(stderr_note)"
	fi
	IFS='|' read -r -a list <<<"$needles"
	for needle in "${list[@]}"; do
		if grep -qF -- "$needle" "$T/err"; then
			ok "$name"
		else
			fail "$name names" "stderr does not contain '$needle'$(stderr_note)"
		fi
	done
	if no_control_chars "$T/err"; then
		ok "$name"
	else
		fail "$name escaped" "raw control or non-ASCII byte on stderr$(stderr_note)"
	fi
	if [ -s "$T/out" ]; then
		fail "$name stdout" "stdout not empty: $(escape_file "$T/out" 200)"
	else
		ok "$name"
	fi
	same_snapshot "$name unchanged" "$before" "$W"
	assert "$name haproxy not run" "haproxy ran with: $(escape_file "$T/fake.argv" 2>/dev/null)" \
		[ ! -e "$T/fake.argv" ]
}

# --- 64: usage ---------------------------------------------------------
bad 64 --bogus-option run --bogus-option x "${N[@]}" "${A[@]}"
bad 64 --netw run --netw="$ID" "${A[@]}"
bad 64 --network run --network "$ID" "${A[@]}"
bad 64 -x run "${N[@]}" "${A[@]}" -x
bad 64 --metadata-port run "${N[@]}" "${A[@]}" --metadata-port
bad 64 --state_path run "${N[@]}" "${US[@]}" "${GR[@]}" --state_path
bad 64 --network-id run "${N[@]}" "${N[@]}" "${A[@]}"
bad 64 --network_id run --network-id "$ID" --network_id "$ID" "${A[@]}"
bad 64 --state-path run "${N[@]}" "${A[@]}" --state-path "$S"
bad 64 '--network-id|--router-id' run "${N[@]}" --router-id "$ID2" "${A[@]}"
bad 64 '--network_id|--router_id' run --network_id "$ID" --router_id "$ID2" "${A[@]}"
bad 64 '--network-id' run "${A[@]}"
bad 64 frobnicate frobnicate "${N[@]}" "${A[@]}"
bad 64 'ru\x0an' "ru${NL}n" "${N[@]}" "${A[@]}"
bad 64 extra run extra "${N[@]}" "${A[@]}"
bad 64 extra run "${N[@]}" "${A[@]}" -- extra
bad 64 cleanup render cleanup "${N[@]}" "${A[@]}"
bad 64 --bind-address-v6 run "${N[@]}" "${A[@]}" --bind-address-v6 ::1
bad 64 --bind_address_v6 run "${N[@]}" "${A[@]}" --bind_address_v6 ::1
bad 64 --bind-interface run "${N[@]}" "${A[@]}" --bind-interface lo
bad 64 --router-id run --flavor ovn --router-id "$ID" "${A[@]}"
bad 64 --log-file run "${N[@]}" "${A[@]}" --log-file proxy.log
bad 64 --debug run "${N[@]}" "${A[@]}" --debug=yes
bad 64 '--network-id|--router-id' cleanup "${N[@]}" --router-id "$ID2" "${A[@]}"
bad 64 --network-id cleanup "${A[@]}"

# --- 65: invalid values -------------------------------------------------
bad 65 --network-id run --network-id 3F1C2D4E-5A6B-4C7D-8E9F-0A1B2C3D4E5F "${A[@]}"
bad 65 --network-id run --network-id 3f1c2d4e5a6b4c7d8e9f0a1b2c3d4e5f "${A[@]}"
bad 65 --network-id run --network-id "{$ID}" "${A[@]}"
bad 65 --network-id run --network-id "${ID%?}" "${A[@]}"
bad 65 --network-id run --network-id "${ID}0" "${A[@]}"
bad 65 --network-id run --network-id "${ID%?}g" "${A[@]}"
bad 65 '--network-id|\x0a' run --network-id "$ID$NL" "${A[@]}"
bad 65 '--network-id|\x0a' run --network-id "$ID$NL    server evil 1.2.3.4:80" "${A[@]}"
bad 65 --network-id run --network-id "../../etc/passwd" "${A[@]}"
bad 65 --router_id run --router_id=nope "${A[@]}"
bad 65 "--network-id|'--debug'" run "${A[@]}" --network-id --debug
bad 65 --network-id run --network-id= "${A[@]}"
bad 65 --metadata-port run "${N[@]}" "${A[@]}" --metadata-port 0
bad 65 --metadata-port run "${N[@]}" "${A[@]}" --metadata-port 65536
bad 65 --metadata-port run "${N[@]}" "${A[@]}" --metadata-port -1
bad 65 --metadata-port run "${N[@]}" "${A[@]}" --metadata-port " 80"
bad 65 --metadata-port run "${N[@]}" "${A[@]}" --metadata-port "80 "
bad 65 --metadata_port run "${N[@]}" "${A[@]}" --metadata_port=0x50
bad 65 --metadata-port run "${N[@]}" "${A[@]}" --metadata-port=
bad 65 --bind-address run "${N[@]}" "${A[@]}" --bind-address 1.2.3
bad 65 --bind-address run "${N[@]}" "${A[@]}" --bind-address '[::1]'
bad 65 --bind-address run "${N[@]}" "${A[@]}" --bind-address 10.0.0.1/24
bad 65 --bind-address-v6 run "${N[@]}" "${A[@]}" --bind-address-v6 10.0.0.1 --bind-interface lo
bad 65 --bind-address-v6 run "${N[@]}" "${A[@]}" --bind-address-v6 fe80::1%eth0 --bind-interface eth0
bad 65 --bind-interface run "${N[@]}" "${A[@]}" --bind-address-v6 ::1 --bind-interface abcdefghijklmnop
bad 65 --bind-interface run "${N[@]}" "${A[@]}" --bind-address-v6 ::1 --bind-interface "eth 0"
bad 65 --bind_interface run "${N[@]}" "${A[@]}" --bind-address-v6 ::1 --bind_interface eth/0
bad 65 --netns run "${N[@]}" "${A[@]}" --netns ..
bad 65 --netns run "${N[@]}" "${A[@]}" --netns a/b
bad 65 --netns run "${N[@]}" "${A[@]}" --netns=
bad 65 --state-path run "${N[@]}" "${US[@]}" "${GR[@]}" --state-path state
bad 65 --state-path run "${N[@]}" "${US[@]}" "${GR[@]}" --state-path "$S/../state"
bad 65 --state-path run "${N[@]}" "${US[@]}" "${GR[@]}" --state-path "$W/st ate"
bad 65 --state-path run "${N[@]}" "${US[@]}" "${GR[@]}" --state-path "$W/st#ate"
bad 65 '--state-path|\x0a' run "${N[@]}" "${US[@]}" "${GR[@]}" --state-path "$W/st${NL}ate"
bad 65 --state-path run "${N[@]}" "${US[@]}" "${GR[@]}" --state-path=
bad 65 --state_path run "${N[@]}" "${US[@]}" "${GR[@]}" --state_path "$W//state"
bad 65 --metadata-proxy-socket run "${N[@]}" "${A[@]}" --metadata-proxy-socket "$LONG_SOCK"
bad 65 --metadata-proxy-socket run "${N[@]}" "${A[@]}" --metadata-proxy-socket "$W/sock\$x"
bad 65 --metadata-proxy-socket run "${N[@]}" "${A[@]}" --metadata-proxy-socket "$W/sock'x"
bad 65 --metadata-proxy-user run "${N[@]}" "${ST[@]}" "${GR[@]}" --metadata-proxy-user "ro ot"
bad 65 --metadata-proxy-user run "${N[@]}" "${ST[@]}" "${GR[@]}" --metadata-proxy-user 4294967295
bad 65 --metadata_proxy_group run "${N[@]}" "${ST[@]}" "${US[@]}" --metadata_proxy_group -root
bad 65 --timeout-client run "${N[@]}" "${A[@]}" --timeout-client 0
bad 65 --timeout-connect run "${N[@]}" "${A[@]}" --timeout-connect 10x
bad 65 --timeout-server run "${N[@]}" "${A[@]}" --timeout-server -1
bad 65 --timeout-http-request run "${N[@]}" "${A[@]}" --timeout-http-request "30 s"
bad 65 --timeout_http_keep_alive run "${N[@]}" "${A[@]}" --timeout_http_keep_alive=
bad 65 --engine run "${N[@]}" "${A[@]}" --engine nginx
bad 65 --flavor run "${N[@]}" "${A[@]}" --flavor OVN
bad 65 --rate-limit-ip-version run "${N[@]}" "${A[@]}" --rate-limit-ip-version 5
bad 65 --rate_limit_ip_version run "${N[@]}" "${A[@]}" --rate_limit_ip_version 7
bad 65 --base-query-rate-limit run "${N[@]}" "${A[@]}" --base-query-rate-limit 0
bad 65 --stop-timeout run "${N[@]}" "${A[@]}" --stop-timeout 3601
bad 65 --syslog-log-facility run "${N[@]}" "${A[@]}" --syslog-log-facility bogus
bad 65 --haproxy-path run "${N[@]}" "${ST[@]}" "${US[@]}" "${GR[@]}" --haproxy-path haproxy
bad 65 --log-file run "${N[@]}" "${A[@]}" --log-file ../proxy.log --log-dir "$W"

# --- 67: unknown user or group -------------------------------------------
bad 67 '--metadata-proxy-user|nosuchuser_nmp' run "${N[@]}" "${ST[@]}" "${GR[@]}" --metadata-proxy-user nosuchuser_nmp
bad 67 '--metadata-proxy-group|nosuchgroup_nmp' run "${N[@]}" "${ST[@]}" "${US[@]}" --metadata-proxy-group nosuchgroup_nmp
bad 67 '--metadata-proxy-user|nosuchuser_nmp' check "${N[@]}" "${ST[@]}" "${GR[@]}" --metadata-proxy-user nosuchuser_nmp
bad 67 '--metadata-proxy-group|nosuchgroup_nmp' render "${N[@]}" "${ST[@]}" "${US[@]}" --metadata-proxy-group nosuchgroup_nmp

# --- other commands -----------------------------------------------------
bad 65 --network-id render --network-id 3F1C2D4E-5A6B-4C7D-8E9F-0A1B2C3D4E5F "${A[@]}"
bad 65 --network-id cleanup --network-id 3F1C2D4E-5A6B-4C7D-8E9F-0A1B2C3D4E5F "${A[@]}"
bad 65 '--router-id|\x0a' cleanup --router-id "$ID$NL" "${A[@]}"
bad 65 '--state-path|\x0a' cleanup "${N[@]}" --state-path "$W/st${NL}ate"
bad 65 --metadata-port check "${N[@]}" "${A[@]}" --metadata-port 0
bad 64 --flavor check "${N[@]}" "${A[@]}" --flavor ovn --flavor neutron

# --- controls: the same base command lines succeed ----------------------
fresh_state
rm -f "$T/fake.argv"
runb run "${N[@]}" "${A[@]}"
expect_code "control: run" 0 "$RC"
if [ "$(cat "$T/fake.argv" 2>/dev/null)" = "$(printf '%s\n' -f "$S/ns-metadata-proxy/$ID.conf")" ]; then
	ok "control: run execs haproxy -f <config>"
else
	fail "control: run execs haproxy -f <config>" "haproxy argv: $(escape_file "$T/fake.argv" 2>/dev/null)$(stderr_note)"
fi
runb render --network_id="$ID" --state_path="$S" --metadata_proxy_user="$NMP_USER" \
	--metadata_proxy_group="$NMP_GROUP" --metadata-proxy-socket "${LONG_SOCK%?}"
expect_code "control: render, underscore spelling, 97-byte socket" 0 "$RC"
runb cleanup "${N[@]}" "${A[@]}"
expect_code "control: cleanup" 0 "$RC"

echo "$ROW bad command lines"
finish
