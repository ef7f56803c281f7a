#!/bin/bash
# `ns-metadata-proxy audit`: a table of config directories, each with one
# planted weakness, must each give that finding (file and line) and exit 1;
# the clean one gives nothing and exits 0.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC=${NMP_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PY=/usr/bin/python3
RID=0b9e8d7c-6f5a-4e3d-9c2b-1a0f9e8d7c6b
umask 022

# The clean config: neutron's shape with every spelling of the identity
# and X-Forwarded-For headers removed before ours is set. Line numbers:
# 3 user, 14 identity deletion, 15 X-Forwarded-For deletion, 16 set-header.
clean() { # FILE [UUID]
	local id=${2:-$ID}
	cat >"$1" <<'EOF'
global
    log /dev/log local0 info
    user USER
    group GROUP
    pidfile /var/lib/neutron/external/pids/UUID.pid
    daemon
defaults
    log global
    mode http
    option forwardfor
listen listener
    bind 169.254.169.254:80
    server metadata /var/lib/neutron/metadata_proxy
    http-request del-header '(?i)^x[-_](neutron|ovn)[-_]' -m reg
    http-request del-header '(?i)^x[-_]forwarded[-_]for$' -m reg
    http-request set-header X-Neutron-Network-ID UUID
EOF
	sed -i "s/USER/$NMP_USER/; s/GROUP/$NMP_GROUP/; s/UUID/$id/g" "$1"
}

# state NAME: a fresh state directory S with a clean config C in it.
state() {
	S=$T/$1
	mkdir -p "$S/ns-metadata-proxy"
	C=$S/ns-metadata-proxy/$ID.conf
	clean "$C"
}

# expect NAME PATTERN: audit of S exits 1 and prints a line matching the
# extended regular expression PATTERN (after the file name).
expect() {
	runb audit "$S"
	if [ "$RC" = 1 ] && grep -qE -- "$2" "$T/out"; then
		ok "$1"
	else
		fail "$1" "exit $RC, want 1 and /$2/ in: $(escape_file "$T/out" 500)$(stderr_note)"
	fi
}

q() { printf '%s' "$1" | sed 's/[][\.*^$/()+?{}|]/\\&/g'; }

# --- clean ------------------------------------------------------------------
state clean
runb audit "$S"
expect_code "clean: exit 0" 0 "$RC"
[ ! -s "$T/out" ] && ok "clean: no finding" || fail "clean: no finding" "$(escape_file "$T/out")"
runb audit "$C"
expect_code "clean file: exit 0" 0 "$RC"

# --- permissions and ownership --------------------------------------------------
state file-mode
chmod 0666 "$C"
expect "world-writable config" "^$(q "$C"): file writable by group or others \(mode 0666\)"

state file-group
chmod 0620 "$C"
expect "group-writable config" "^$(q "$C"): file writable by group or others \(mode 0620\)"

state dir-mode
chmod 0777 "$S/ns-metadata-proxy"
expect "world-writable config directory" "^$(q "$S/ns-metadata-proxy"): directory writable by group or others \(mode 0777\)"

state dir-sticky
chmod 1777 "$S/ns-metadata-proxy"
expect "sticky world-writable directory" "^$(q "$S/ns-metadata-proxy"): directory writable by group or others \(mode 1777\)"

if [ "$IS_ROOT" = 1 ] && getent passwd nobody >/dev/null; then
	state owner
	chown nobody "$C"
	expect "config owned by another user" "^$(q "$C"): file owned by uid $(id -u nobody), neither root nor the owner of its directory"
	state dir-owner
	chown nobody "$S/ns-metadata-proxy"
	expect "config directory owned by another user" "^$(q "$S/ns-metadata-proxy"): directory owned by uid $(id -u nobody)"
else
	skip "foreign owners" "needs root and a 'nobody' user"
fi

state symlink
mv "$C" "$S/elsewhere.conf.real"
ln -s "$S/elsewhere.conf.real" "$C"
expect "symlinked config" "^$(q "$C"): is a symbolic link"

state dir-symlink
mv "$S/ns-metadata-proxy" "$S/real"
ln -s "$S/real" "$S/ns-metadata-proxy"
expect "symlinked config directory" "^$(q "$S/ns-metadata-proxy"): is a symbolic link"

# --- content ------------------------------------------------------------------
state directive
sed -i '12a\    lua-load /etc/haproxy/evil.lua' "$C"
expect "directive outside the template" "^$(q "$C"):13: outside the template or invalid: 'lua-load /etc/haproxy/evil.lua'"

state two-findings
sed -i '2a\    stats socket /run/x.sock' "$C"
sed -i '13a\    server other 127.0.0.1:8775' "$C"
expect "every refused line: first" "^$(q "$C"):3: .*'stats socket"
runb audit "$S"
grep -qE "^$(q "$C"):14: .*'server other 127\.0\.0\.1:8775': .*not a network address" "$T/out" && ok "every refused line: second" ||
	fail "every refused line: second" "$(escape_file "$T/out" 500)"

state bad-uuid
sed -i "16s/.*/    http-request set-header X-Neutron-Network-ID 3F1C2D4E-5A6B-4C7D-8E9F-0A1B2C3D4E5F/" "$C"
expect "value that fails validation (uuid)" "^$(q "$C"):16: .*not a canonical lower-case UUID"

state bad-path
sed -i '13s|.*|    server metadata /var/lib/neutron/../metadata_proxy|' "$C"
expect "value that fails validation (path)" "^$(q "$C"):13: .*'\.\.' component"

state bad-port
sed -i '12s|.*|    bind 169.254.169.254:65536|' "$C"
expect "value that fails validation (port)" "^$(q "$C"):12: .*port: out of range"

state no-user
sed -i "3s/.*/    user nmp-no-such-user-$$/" "$C"
expect "user that does not exist" "^$(q "$C"):3: 'user nmp-no-such-user-$$': no such user"

state no-xff
sed -i '15d' "$C"
expect "missing X-Forwarded-For removal" "^$(q "$C"):15: no removal of a client-sent X-Forwarded-For"

state xff-exact
sed -i '15s/.*/    http-request del-header X-Forwarded-For/' "$C"
expect "X-Forwarded-For removed as spelled only" "^$(q "$C"):16: X-Forwarded-For is removed only as spelled"

state spelling
sed -i '14s/.*/    http-request del-header X-Neutron-Router-ID/' "$C"
expect "identity header removed as spelled only" "^$(q "$C"):16: spoofable identity headers"

state ovn-add
mkdir "$S/ovn-metadata-proxy"
mv "$C" "$S/ovn-metadata-proxy/$ID.conf"
C=$S/ovn-metadata-proxy/$ID.conf
sed -i '14d; s/set-header X-Neutron-Network-ID/add-header X-OVN-Network-ID/' "$C"
expect "OVN add-header keeps a client copy" "^$(q "$C"):15: spoofable identity header: add-header keeps"

state wrong-name
mv "$C" "$S/ns-metadata-proxy/$RID.conf"
C=$S/ns-metadata-proxy/$RID.conf
expect "file named for another id" "^$(q "$C"):16: the file is named for $RID but the proxy claims $ID"

# A config as neutron's own code writes it (Zed): weak, and said so.
if "$PY" -c 'import neutron.agent.metadata.driver' 2>/dev/null; then
	S=$T/neutron
	mkdir -m 0755 "$S"
	"$PY" "$SRC/tests/support/neutron_render.py" --driver neutron --state-path "$S" \
		--network-id "$ID" --bind 169.254.169.254 --port 80 \
		--socket /var/lib/neutron/metadata_proxy --user "$NMP_USER" --group "$NMP_GROUP" \
		--pidfile "/var/lib/neutron/external/pids/$ID.pid" >"$T/render.out" 2>"$T/render.err"
	C=$S/ns-metadata-proxy/$ID.conf
	expect "neutron's config: X-Forwarded-For" "^$(q "$C"):[0-9]+: no removal of a client-sent X-Forwarded-For"
	expect "neutron's config: spellings" "^$(q "$C"):[0-9]+: spoofable identity headers"
	[ "$(wc -l <"$T/out")" = 2 ] && ok "neutron's config: nothing else" ||
		fail "neutron's config: nothing else" "$(escape_file "$T/out" 600)"
else
	skip "neutron's config" "python3-neutron is not importable by $PY"
fi

# --- usage ------------------------------------------------------------------------
runb audit
expect_code "audit without a path" 64 "$RC"
runb audit "$T/does-not-exist"
expect_code "audit of a missing path" 66 "$RC"
one_line "$T/err" && ok "audit of a missing path: one line" || fail "audit of a missing path: one line" "$(stderr_note)"
runb audit --all "$T"
expect_code "audit with an option" 64 "$RC"

finish
