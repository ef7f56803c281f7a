#!/bin/bash
# The Debian package, built from a copy of the source tree (the tree itself
# stays as it was):
#
#   NMP_SOURCE_DIR=. bash tests/package/deb.sh /path/to/ns-metadata-proxy
#
# - dpkg-buildpackage -us -uc -b builds it (nocheck: the suite runs the
#   unit tests itself), and lintian finds no error and no warning;
# - its fields: the version of the binary under test, Recommends haproxy,
#   linked with libsystemd (sd_notify);
# - unpacked into a scratch root (dpkg -x): the binary in /usr/sbin with its
#   neutron-ns-metadata-proxy symlink, the man page compressed with its
#   twin, the bash completion in bash-completion's completionsdir with its
#   twin (a symlink), as in the tree and valid bash, the unit naming
#   /usr/sbin/ns-metadata-proxy with Type=notify, the
#   example environment file and /etc/ns-metadata-proxy; the unpacked binary
#   says its version and renders, under either name, exactly what the
#   binary under test renders; the unpacked man page renders without a
#   warning;
# - installed for real with apt-get install ./….deb when the machine does
#   not have the package already (never touching an operator's install):
#   the unit then passes systemd-analyze verify by its name, the binary in
#   PATH works, bash-completion's loader finds the completion under either
#   name, and apt-get purge removes every file again.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=${NMP_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
. "$SRC/tests/e2e/lib.sh"

PKG=ns-metadata-proxy
INSTALLED=0
_deb_exit() {
	local rc=$?
	trap - EXIT
	if [ "$INSTALLED" = 1 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=120 "$PKG" >/dev/null 2>&1
	fi
	_lib_exit
	exit "$rc"
}
trap _deb_exit EXIT

for tool in dpkg-buildpackage dh lintian dpkg-deb; do
	if ! command -v "$tool" >/dev/null; then
		skip package "no $tool (scripts/setup installs debhelper and lintian)"
		finish
	fi
done

# The tree as it is, without build directories: what git knows (committed
# or not, untracked but not ignored) or, outside a git checkout, all of it.
COPY=$T/src
mkdir -p "$COPY"
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$SRC" && git ls-files -co --exclude-standard -z |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		xargs -0 cp --parents -t "$COPY")
else
	(cd "$SRC" && tar --exclude='./build*' --exclude=./.git -cf - .) | (cd "$COPY" && tar -xf -)
fi

t0=$(date +%s)
(cd "$COPY" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
	dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1
rc=$?
echo "dpkg-buildpackage -us -uc -b: $(($(date +%s) - t0)) s"
expect_code dpkg-buildpackage 0 "$rc"
VERSION=$("$BIN" --version | sed -n 's/^ns-metadata-proxy //p')
ARCH=$(dpkg --print-architecture)
DEB=$T/${PKG}_${VERSION}_$ARCH.deb
CHANGES=$T/${PKG}_${VERSION}_$ARCH.changes
if [ "$rc" -ne 0 ] || [ ! -f "$DEB" ]; then
	fail deb "no $(basename "$DEB") (the changelog's version must be the binary's, $VERSION): $(tail -n 5 "$T/build.log" | tr '\n' ' ')"
	finish
fi
ok deb

# lintian as root says so on stderr; its findings go to stdout.
lintian --pedantic "$CHANGES" >"$T/lintian.out" 2>"$T/lintian.err"
assert lintian-errors "lintian: $(grep '^E:' "$T/lintian.out" | head -n 5 | tr '\n' ' ')" \
	bash -c "! grep -q '^E:' '$T/lintian.out'"
assert lintian-warnings "lintian: $(grep '^W:' "$T/lintian.out" | head -n 5 | tr '\n' ' ')" \
	bash -c "! grep -q '^W:' '$T/lintian.out'"
echo "lintian --pedantic: $(grep -c '^[EWIP]:' "$T/lintian.out") findings: $(cut -d' ' -f1,3 "$T/lintian.out" | sort | uniq -c | tr '\n' ';' | tr -s ' ')"

field() { dpkg-deb -f "$DEB" "$1"; }
assert field-version "Version is '$(field Version)', not $VERSION" [ "$(field Version)" = "$VERSION" ]
assert field-recommends "Recommends is '$(field Recommends)', not haproxy" bash -c "dpkg-deb -f '$DEB' Recommends | grep -qw haproxy"
assert field-libsystemd "Depends '$(field Depends)' has no libsystemd0: built without sd_notify" \
	bash -c "dpkg-deb -f '$DEB' Depends | grep -qw libsystemd0"

# --- unpacked into a scratch root ---------------------------------------------
R=$T/root
dpkg -x "$DEB" "$R"
assert root-binary "no executable /usr/sbin/$PKG" [ -f "$R/usr/sbin/$PKG" ] && [ -x "$R/usr/sbin/$PKG" ]
assert root-symlink "/usr/sbin/neutron-ns-metadata-proxy is not a symlink to $PKG" \
	[ "$(readlink "$R/usr/sbin/neutron-ns-metadata-proxy")" = "$PKG" ]
assert root-man "no /usr/share/man/man8/$PKG.8.gz" gzip -t "$R/usr/share/man/man8/$PKG.8.gz"
assert root-man-twin "neutron-ns-metadata-proxy.8.gz is not a symlink to $PKG.8.gz" \
	[ "$(readlink "$R/usr/share/man/man8/neutron-ns-metadata-proxy.8.gz")" = "$PKG.8.gz" ]
# bash-completion loads a completion by the name of the command completed.
BCDIR=$(pkg-config --variable=completionsdir bash-completion 2>/dev/null)
BCDIR=${BCDIR:-/usr/share/bash-completion/completions}
# shellcheck disable=SC2016 # $1 is bash -c's
assert root-completion "no file $BCDIR/$PKG" bash -c '[ -f "$1" ] && [ ! -L "$1" ]' _ "$R$BCDIR/$PKG"
assert root-completion-same "$BCDIR/$PKG is not the tree's bash-completion/$PKG" \
	cmp -s "$R$BCDIR/$PKG" "$SRC/bash-completion/$PKG"
assert root-completion-bash "bash -n $BCDIR/$PKG: $(bash -n "$R$BCDIR/$PKG" 2>&1 | head -n 2 | tr '\n' ' ')" \
	bash -n "$R$BCDIR/$PKG"
assert root-completion-twin "$BCDIR/neutron-ns-metadata-proxy is not a symlink to $PKG" \
	[ "$(readlink "$R$BCDIR/neutron-ns-metadata-proxy")" = "$PKG" ]
U=$R/lib/systemd/system/$PKG@.service
assert root-unit "no /lib/systemd/system/$PKG@.service" [ -f "$U" ]
assert root-unit-exec "the unit does not run /usr/sbin/$PKG" grep -q "^ExecStart=/usr/sbin/$PKG run " "$U"
assert root-unit-notify "the unit is not Type=notify" grep -qx 'Type=notify' "$U"
assert root-etc "no /etc/ns-metadata-proxy" [ -d "$R/etc/ns-metadata-proxy" ]
# neutron's haproxy -f resolves to the front; the stub is what it becomes
# once the fleet serves its network, found where the binary was built for.
assert root-front "/usr/libexec/$PKG/haproxy is not a symlink to /usr/sbin/$PKG" \
	[ "$(readlink -f "$R/usr/libexec/$PKG/haproxy")" = "$(readlink -f "$R/usr/sbin/$PKG")" ]
assert root-stub "no executable /usr/libexec/$PKG/$PKG-stub" [ -x "$R/usr/libexec/$PKG/$PKG-stub" ]
assert root-stub-path "the binary does not name /usr/libexec/$PKG/$PKG-stub" \
	grep -qa "/usr/libexec/$PKG/$PKG-stub" "$R/usr/sbin/$PKG"
assert root-logrotate "no /etc/logrotate.d/$PKG" [ -f "$R/etc/logrotate.d/$PKG" ]
logrotate --debug --state "$T/logrotate.state" "$R/etc/logrotate.d/$PKG" >"$T/lr.out" 2>&1
expect_code root-logrotate-parses 0 $?
assert root-logrotate-clean "logrotate said: $(escape_file "$T/lr.out" 400)" \
	not grep -qiE 'error|unknown|ignoring' "$T/lr.out"
assert root-logdir "no /var/log/$PKG" [ -d "$R/var/log/$PKG" ]
assert root-example "no example environment file" [ -s "$R/usr/share/doc/$PKG/examples/example.env" ]
assert root-operators "no operators.md among the docs" \
	bash -c "[ -s '$R/usr/share/doc/$PKG/operators.md.gz' ] || [ -s '$R/usr/share/doc/$PKG/operators.md' ]"
assert root-fleet-protocol "no fleet-protocol.md among the docs" \
	bash -c "[ -s '$R/usr/share/doc/$PKG/fleet-protocol.md.gz' ] || [ -s '$R/usr/share/doc/$PKG/fleet-protocol.md' ]"

"$R/usr/sbin/$PKG" --version >"$T/v.out" 2>&1
expect_code root-version 0 $?
assert root-version-text "--version said: $(escape_file "$T/v.out")" grep -qx "ns-metadata-proxy $VERSION" "$T/v.out"
RENDER=(render --network-id "$ID" --flavor ovn --metadata-port 80 --bind-address-v6 fe80::a9fe:a9fe
	--bind-interface tap0 --metadata-proxy-user nobody --metadata-proxy-group nogroup --rate-limit-enabled)
"$BIN" "${RENDER[@]}" >"$T/want.conf" 2>"$T/want.err"
expect_code render-under-test 0 $?
for name in "$PKG" neutron-ns-metadata-proxy; do
	"$R/usr/sbin/$name" "${RENDER[@]}" >"$T/got.conf" 2>"$T/got.err"
	expect_code "root-render-$name" 0 $?
	assert "root-render-$name-same" "the unpacked $name renders differently: $(diff "$T/want.conf" "$T/got.conf" | head -n 4 | tr '\n' ' ')" \
		cmp -s "$T/want.conf" "$T/got.conf"
done
assert root-render-id "the render names no X-OVN-Network-ID $ID" grep -q "set-header X-OVN-Network-ID $ID" "$T/got.conf"
if command -v man >/dev/null; then
	MANWIDTH=80 man --warnings -l "$R/usr/share/man/man8/$PKG.8.gz" >"$T/man.txt" 2>"$T/man.err"
	assert root-man-renders "man -l: $(escape_file "$T/man.err" 300)" \
		bash -c "[ ! -s '$T/man.err' ] && grep -q '^EXIT STATUS' '$T/man.txt'"
fi

# --- installed for real -------------------------------------------------------
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
	skip install "needs root and apt-get"
	finish
fi
if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q installed; then
	skip install "$PKG is installed on this machine already: not replacing it"
	finish
fi
INSTALLED=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=120 "$DEB" >"$T/apt.out" 2>&1
expect_code apt-install 0 $?
assert installed-status "dpkg does not list $PKG as installed" \
	bash -c "dpkg-query -W -f='\${Status}' $PKG | grep -qx 'install ok installed'"
assert installed-recommends "haproxy (recommended) is not installed alongside" \
	bash -c "dpkg-query -W -f='\${Status}' haproxy | grep -qx 'install ok installed'"
assert installed-version "ns-metadata-proxy --version from PATH: $(PATH=/usr/sbin:/usr/bin:/sbin:/bin ns-metadata-proxy --version 2>&1)" \
	bash -c "PATH=/usr/sbin:/usr/bin:/sbin:/bin ns-metadata-proxy --version | grep -qx 'ns-metadata-proxy $VERSION'"
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify "$PKG@$ID.service" >"$T/verify.out" 2>&1
	expect_code installed-verify 0 $?
	assert installed-verify-quiet "systemd-analyze verify said: $(escape_file "$T/verify.out" 300)" [ ! -s "$T/verify.out" ]
fi
if [ -f /usr/share/bash-completion/bash_completion ]; then
	for name in "$PKG" neutron-ns-metadata-proxy; do
		# (HOME: no completion of the user's own comes first)
		HOME=$T/home bash --norc --noprofile -c '. /usr/share/bash-completion/bash_completion &&
			__load_completion "$1" && complete -p "$1"' _ "$name" >"$T/bc.out" 2>&1
		assert "installed-completion-$name" "bash-completion does not load a completion for $name: $(escape_file "$T/bc.out" 300)" \
			grep -q -- "-F _ns_metadata_proxy $name\$" "$T/bc.out"
	done
fi
FILES=$(dpkg -L "$PKG" | grep -v '^/\.$')
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=120 "$PKG" >"$T/purge.out" 2>&1
expect_code apt-purge 0 $?
INSTALLED=0
left=""
for f in $FILES; do
	# (a directory may stay, or be a symlink such as /lib on merged /usr)
	if [ -f "$f" ] || { [ -L "$f" ] && [ ! -d "$f" ]; }; then
		left+="$f "
	fi
done
assert purged "files left after purge: $left" [ -z "$left" ]
assert purged-etc "/etc/ns-metadata-proxy left after purge" [ ! -e /etc/ns-metadata-proxy ]

finish
