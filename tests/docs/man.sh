#!/bin/bash
# The man page, against the binary it documents:
#
#   bash tests/docs/man.sh /path/to/ns-metadata-proxy
#
# - groff renders it with every warning on (-ww) and says nothing; man -l
#   renders it without a warning;
# - every option --help lists is documented (both spellings of a flag),
#   each with the default --help gives; every command and every exit code
#   --help names is there too;
# - README names no option --help does not list, and names the haproxy
#   search directories --help gives, in its order.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=${NMP_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
. "$SRC/tests/e2e/lib.sh"

PAGE=$SRC/docs/ns-metadata-proxy.8

if ! command -v groff >/dev/null; then
	skip groff "no groff (Debian package groff-base)"
else
	groff -mandoc -ww -z "$PAGE" >"$T/groff.out" 2>&1
	expect_code groff 0 $?
	assert groff-quiet "groff -ww warned: $(escape_file "$T/groff.out" 400)" [ ! -s "$T/groff.out" ]
fi
if ! command -v man >/dev/null; then
	skip man "no man (Debian package man-db)"
else
	MANWIDTH=80 man --warnings -l "$PAGE" >"$T/man.txt" 2>"$T/man.err"
	expect_code man-l 0 $?
	assert man-quiet "man -l warned: $(escape_file "$T/man.err" 400)" [ ! -s "$T/man.err" ]
	assert man-rendered "man -l rendered no EXIT STATUS section" grep -q '^EXIT STATUS' "$T/man.txt"
fi

"$BIN" --help >"$T/help" 2>&1
expect_code help 0 $?

# One line per problem; empty when the page covers what --help says.
python3 "$SRC/tests/support/doc_drift.py" "$T/help" "$PAGE" "$SRC/README.md" >"$T/drift" 2>&1
expect_code drift-check 0 $?
assert covers-help "the man page and --help differ: $(escape_file "$T/drift" 600)" [ ! -s "$T/drift" ]

finish
