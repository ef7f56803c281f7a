#!/bin/bash
# Request smuggling: requests whose framing two HTTP parsers could read two
# ways (Content-Length with Transfer-Encoding, two lengths, codings around
# chunked, odd case and blanks in Transfer-Encoding, obs-fold in the framing
# headers, bare LF and bare CR line ends, chunk sizes past 64 bits, chunk
# extensions, a request hidden in a body, a GET with a body then a
# pipelined request), each on its own connection, all at once, against a
# greedy agent (fake_agent.py --mode attack) that reads every request on
# each of its connections, ignoring Connection: close, as a careless
# keep-alive backend would.
#
# The built-in engine must, per case, refuse (400/501, the refused request
# never reaching the agent) or forward exactly what the client sent: the
# requests an RFC 9112 parser finds in the bytes, each with the client's
# Content-Length/Transfer-Encoding and body bytes unchanged, and nothing
# after them on the agent connection. Cases marked "must refuse" are
# ambiguous and must be refused.
#
# haproxy runs the same cases and its outcome is recorded (printed, and
# written to $NMP_BUILD_DIR/security/net_smuggling.{tsv,md}). With either
# engine the rule is: every request the agent reads is one the client sent
# (a path the case wrote), with our identity headers (X-Forwarded-For: the
# client's address, X-Neutron-Network-ID: ours, once each) and nothing
# else of that kind, and no bytes the agent cannot read as a request. An
# agent connection may carry several requests (the built-in engine reuses
# them for bodiless GETs), so the rule looks at each request, not at how
# many share a connection: a request hidden in another's bytes reaches the
# agent without our headers, or with the client's. The request a case
# hides (/hidden) may still reach the agent as a request of its own: the
# proxy then framed the bytes before it one way, consistently, took it for
# the pipelined request that it is under that framing, and sent it on with
# our headers.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/net_lib.sh"
net_prereqs
T0=$(ms)

cat >"$T/gen.py" <<'EOF'
import json
import sys

cases = []


def add(label, head, body=b"", legit=None, refuse=False, after=b"",
        end=b"\r\n"):
    """head: request line and header lines (str, line ends included, the
    empty line not); body: bytes after the head; legit: the requests the
    client sent, as an RFC 9112 parser frames them: (path, body, CL, TE);
    None: just this one with the framing given; refuse: the built-in engine
    must refuse; after: more bytes sent behind the request; end: what
    ends the head. /mXX/ becomes /mNN/, the case's own path prefix (the
    same length, so lengths computed on the templates hold)."""
    i = len(cases)
    p = "/m%02d/" % i
    assert len(p) == len("/mXX/")
    head = head.replace("/mXX/", p)
    data = (head.encode("latin-1") + end + body + after).replace(
        b"/mXX/", p.encode())
    if legit is None:
        legit = [("a", body, None, None)]
    reqs = [{"path": p + x[0],
             "body": x[1].replace(b"/mXX/", p.encode()).decode("latin-1"),
             "cl": x[2], "te": x[3]} for x in legit]
    cases.append({"name": "m%02d" % i, "label": label,
                  "data": data.decode("latin-1"), "legit": reqs,
                  "refuse": refuse,
                  "lines": data.count(b" HTTP/1.")})


H = "Host: 127.0.0.1\r\n"
SM = b"GET /mXX/hidden HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
CH = b"5\r\nhello\r\n0\r\n\r\n"

# Content-Length and Transfer-Encoding together, both orders, each side
# hiding a request from the other.
add("CL.TE: CL 6 covers a terminated chunked body, a request follows",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n",
    b"0\r\n\r\n" + SM, legit=[], refuse=True)
add("TE.CL: TE first, CL 4, the chunk is a request",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n",
    b"%x\r\n" % len(SM) + SM + b"\r\n0\r\n\r\n", legit=[], refuse=True)
add("CL.TE: CL 0, chunked body",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n",
    CH, legit=[], refuse=True)
# Two lengths.
add("two Content-Length, equal",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Content-Length: 5\r\nContent-Length: 5\r\n",
    b"hello", legit=[("a", b"hello", "5", None)], refuse=True)
add("two Content-Length, 5 then 51 (a request in the difference)",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Content-Length: 5\r\nContent-Length: %d\r\n" % (5 + len(SM)),
    b"hello" + SM, legit=[], refuse=True)
add("two Content-Length, 51 then 5",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Content-Length: %d\r\nContent-Length: 5\r\n" % (5 + len(SM)),
    b"hello" + SM, legit=[], refuse=True)
add("Content-Length: 5, 5 (a list)",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Content-Length: 5, 5\r\n",
    b"hello", legit=[], refuse=True)
for v in ("+5", "0x5", "5 5", "-1", "5.0", "99999999999999999999999"):
    add("Content-Length: %s" % v,
        "POST /mXX/a HTTP/1.1\r\n" + H + "Content-Length: %s\r\n" % v,
        b"hello" + SM, legit=[], refuse=True)
# Codings around chunked.
add("Transfer-Encoding: chunked, identity",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, identity\r\n",
    CH + SM, legit=[], refuse=True)
add("Transfer-Encoding: identity, chunked",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: identity, chunked\r\n",
    CH, legit=[], refuse=True)
add("Transfer-Encoding: chunked twice (two fields)",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
    CH, legit=[], refuse=True)
add("Transfer-Encoding: gzip, chunked",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip, chunked\r\n",
    CH, legit=[], refuse=True)
add("Transfer-Encoding: xchunked",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: xchunked\r\n",
    CH, legit=[], refuse=True)
add("Transfer-Encoding: identity",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: identity\r\n",
    CH, legit=[], refuse=True)
# Odd case and blanks in Transfer-Encoding (valid: case-insensitive, OWS).
add("Transfer-Encoding: CHUNKED",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: CHUNKED\r\n",
    CH, legit=[("a", CH, None, "CHUNKED")])
add("tRANSFER-eNCODING: Chunked",
    "POST /mXX/a HTTP/1.1\r\n" + H + "tRANSFER-eNCODING: Chunked\r\n",
    CH, legit=[("a", CH, None, "Chunked")])
add("Transfer-Encoding:<SP><TAB>chunked<SP><TAB>",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: \tchunked \t\r\n",
    CH, legit=[("a", CH, None, "chunked")])
add("Transfer-Encoding<SP>: chunked (blank before the colon)",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding : chunked\r\n",
    CH + SM, legit=[], refuse=True)
add("Transfer-Encoding: chunked<VT>",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\x0b\r\n",
    CH + SM, legit=[], refuse=True)
add("Transfer_Encoding: chunked (underscore: not the header)",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer_Encoding: chunked\r\nContent-Length: 5\r\n",
    b"hello", legit=[("a", b"hello", "5", None)])
add("Transfer-Encoding: chunked in an HTTP/1.0 request",
    "POST /mXX/a HTTP/1.0\r\n" + H + "Transfer-Encoding: chunked\r\n",
    CH, legit=[("a", CH, None, "chunked")])
# obs-fold in the framing headers.
add("obs-fold: Transfer-Encoding:<CRLF><SP>chunked",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding:\r\n chunked\r\n",
    CH + SM, legit=[], refuse=True)
add("obs-fold: X-Foo: x<CRLF><SP>Transfer-Encoding: chunked",
    "POST /mXX/a HTTP/1.1\r\n" + H + "X-Foo: x\r\n Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
    b"hello", legit=[], refuse=True)
add("obs-fold: Content-Length:<CRLF><SP>5",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Content-Length:\r\n 5\r\n",
    b"hello" + SM, legit=[], refuse=True)
# Bare LF, bare CR.
add("bare LF line ends throughout",
    "GET /mXX/a HTTP/1.1\n" + H.replace("\r\n", "\n"), end=b"\n",
    legit=[], refuse=True)
add("bare LF after one header",
    "GET /mXX/a HTTP/1.1\r\nX-Foo: x\n" + H, legit=[], refuse=True)
add("bare LF as the end of the head",
    "GET /mXX/a HTTP/1.1\r\n" + H, end=b"\n", after=SM, legit=[], refuse=True)
add("bare LF in chunk framing",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n",
    b"5\nhello\n0\n\n" + SM, legit=[], refuse=True)
add("bare CR in the head",
    "GET /mXX/a HTTP/1.1\r\nX-Foo: x\rX-Bar: y\r\n" + H, legit=[], refuse=True)
add("bare CR ends the request line",
    "GET /mXX/a HTTP/1.1\r" + H, legit=[], refuse=True)
# Chunk sizes.
for size, label in (("1" + "0" * 16 + "5", "2^64 + 5 (17 hex digits)"),
                    ("ffffffffffffffff", "2^64 - 1"),
                    ("f" * 32, "32 hex digits"),
                    ("-5", "negative"),
                    ("0x5", "0x prefix")):
    add("chunk size %s" % label,
        "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n",
        size.encode() + b"\r\nhello\r\n0\r\n\r\n" + SM, legit=[], refuse=True)
# Not in RFC 9112's grammar, but read alike by lenient parsers (the blank
# as the BWS that may start an extension): forwarded as sent, the request
# behind it is then a pipelined one.
add("chunk size followed by a blank (5<SP>), then a request",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n",
    b"5 \r\nhello\r\n0\r\n\r\n", after=SM,
    legit=[("a", b"5 \r\nhello\r\n0\r\n\r\n", None, "chunked"),
           ("hidden", b"", None, None)])
add("chunk size with leading zeros (00000005)",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n",
    b"00000005\r\nhello\r\n0\r\n\r\n",
    legit=[("a", b"00000005\r\nhello\r\n0\r\n\r\n", None, "chunked")])
add("chunk data longer than its size",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n",
    b"5\r\nhelloXX\r\n0\r\n\r\n" + SM, legit=[], refuse=True)
# Chunk extensions (valid syntax is forwarded as sent).
CX = b"5;name=value\r\nhello\r\n3;q=\"a b\";x\r\nabc\r\n0;last\r\n\r\n"
add("chunk extensions",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n",
    CX, legit=[("a", CX, None, "chunked")])
add("chunk extension with a bare LF in it",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n",
    b"5;a\nb\r\nhello\r\n0\r\n\r\n" + SM, legit=[], refuse=True)
add("trailer field after the last chunk (X-Neutron-Network-ID)",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n",
    b"5\r\nhello\r\n0\r\nX-Neutron-Network-ID: deadbeef-dead-4bad-8bad-deadbeefdead\r\n\r\n",
    legit=[], refuse=True)
# A request hidden in a body: it is body, never a request.
add("a request hidden in a Content-Length body",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Content-Length: %d\r\n" % len(SM),
    SM, legit=[("a", SM, str(len(SM)), None)])
CS = b"%x\r\n" % len(SM) + SM + b"\r\n0\r\n\r\n"
add("a request hidden in a chunk",
    "POST /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n",
    CS, legit=[("a", CS, None, "chunked")])
# A GET with a body, then a pipelined request.
add("GET with a Content-Length body (a request), then a pipelined GET",
    "GET /mXX/a HTTP/1.1\r\n" + H + "Content-Length: %d\r\n" % len(SM),
    SM, after=b"GET /mXX/b HTTP/1.1\r\n" + H.encode() + b"\r\n",
    legit=[("a", SM, str(len(SM)), None), ("b", b"", None, None)])
add("GET with a chunked body, then a pipelined GET",
    "GET /mXX/a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n",
    CS, after=b"GET /mXX/b HTTP/1.1\r\n" + H.encode() + b"\r\n",
    legit=[("a", CS, None, "chunked"), ("b", b"", None, None)])
add("GET without a length, bytes behind it (a pipelined GET)",
    "GET /mXX/a HTTP/1.1\r\n" + H, b"",
    after=b"GET /mXX/b HTTP/1.1\r\n" + H.encode() + b"\r\n",
    legit=[("a", b"", None, None), ("b", b"", None, None)])
add("a good request, then CL.TE pipelined behind it",
    "GET /mXX/a HTTP/1.1\r\n" + H, b"",
    after=b"POST /mXX/b HTTP/1.1\r\n" + H.encode() +
    b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SM,
    legit=[("a", b"", None, None)], refuse=True)
# Request line.
add("two blanks in the request line",
    "GET  /mXX/a HTTP/1.1\r\n" + H, legit=[("a", b"", None, None)])
add("HTTP/1.2", "GET /mXX/a HTTP/1.2\r\n" + H, legit=[], refuse=True)
json.dump(cases, open(sys.argv[1], "w"))
EOF

# Verdicts ("ok<TAB>NAME" / "FAIL<TAB>NAME<TAB>WHY") and one "R" line per
# case: engine, case, statuses, what the agent saw.
cat >"$T/check.py" <<'EOF'
import json
import re
import sys

from netcheck import identity_problem, load

cases_f, res_f, rec_f, engine, NET_ID = sys.argv[1:6]
cases, res, recs = load(cases_f, res_f, rec_f)

# Attribute every record (requests, leftovers, bad bytes) to its case by
# the /mN/ in it, or by the agent connection it came on.
conn_case = {}
for r in recs:
    m = re.search(r"/m(\d+)/", r.get("path") or "")
    if m:
        conn_case[r["conn"]] = "m" + m.group(1)
by_case = {}
for r in recs:
    m = re.search(r"/m(\d+)/", (r.get("path") or "") + " " +
                  (r.get("data") or ""))
    key = "m" + m.group(1) if m else conn_case.get(r["conn"], "?")
    by_case.setdefault(key, []).append(r)
if by_case.get("?"):
    print("FAIL\t%s: every agent record belongs to a case\t%s" %
          (engine, json.dumps(by_case["?"])[:300]))


def hval(rec, name):
    v = [x[1].strip() for x in rec["headers"]
         if x[0].strip().lower() == name]
    return ",".join(v) if v else None


def seen(recs, legit):
    """What the agent saw, short."""
    out = []
    lg = {x["path"]: x for x in legit}
    for r in recs:
        if r["kind"] != "request":
            out.append("%s %d bytes" % (r["kind"], r.get("bytes", len(
                r.get("data", "")))))
            continue
        fr = []
        cl, te = hval(r, "content-length"), hval(r, "transfer-encoding")
        if cl is not None:
            fr.append("CL " + cl)
        if te is not None:
            fr.append("TE " + te)
        s = r["path"].split("/", 2)[-1] + (" [" + ", ".join(fr) + "]"
                                           if fr else "")
        x = lg.get(r["path"])
        if r["body_bytes"] and x is not None:
            s += " body %s" % ("as sent" if r["body_raw"] == x["body"]
                               else "re-framed")
        if "X-Neutron" in r.get("body_raw", ""):
            s += " (with the X-Neutron-Network-ID trailer)"
        out.append(s)
    return "; ".join(out) if out else "nothing"


for c in cases:
    name = "%s: %s" % (engine, c["label"])
    r = res.get(c["name"], {})
    st = r.get("statuses", [])
    got = by_case.get(c["name"], [])
    legit = c["legit"]
    paths = {x["path"] for x in legit}
    reqs = [g for g in got if g["kind"] == "request"]
    junk = [g for g in got if g["kind"] != "request"]
    why = None
    prefix = c["name"].replace("m", "/m", 1) + "/"
    lines = {prefix + x for x in ("a", "b", "hidden")}
    # Each request the agent read: one the client wrote, with our
    # identity headers only (see the top of this file).
    smuggled = ["%s, a request line the client never sent" % g["path"]
                for g in reqs if g["path"] not in lines]
    smuggled += ["%s (request %d on its agent connection): %s" % (
                 g["path"], g["seq"] + 1, identity_problem(g, NET_ID))
                 for g in reqs if identity_problem(g, NET_ID)]
    if smuggled:
        why = "SMUGGLED: %s" % "; ".join(smuggled)
    elif junk:
        why = "bytes beyond the request reached the agent on its " \
              "connection: %s" % json.dumps(junk)[:200]
    elif len(st) > c["lines"]:
        why = "more responses (%s) than request lines sent" % st
    elif engine in ("builtin", "fleet"):
        n = len(reqs)
        exact = [g["path"] for g in reqs] == [x["path"] for x in legit[:n]]
        for g, x in zip(reqs, legit):
            if (g["body_raw"] != x["body"] or
                    hval(g, "content-length") != x["cl"] or
                    hval(g, "transfer-encoding") != x["te"]):
                exact = False
        refused = (len(st) == n + 1 and st[-1] in (400, 501, 505) and
                   st[:n] == [200] * n)
        forwarded = (n == len(legit) and st == [200] * n and n > 0)
        if not exact:
            why = "framing changed: agent saw %s, client sent %s" % (
                seen(got, legit), json.dumps(legit)[:300])
        elif c["refuse"] and not refused:
            why = "must be refused (400/501/505): statuses %s, agent saw " \
                  "%s" % (st, seen(got, legit))
        elif not refused and not forwarded:
            why = "neither refused nor forwarded as sent: statuses %s, " \
                  "agent saw %s" % (st, seen(got, legit))
    if why is None:
        print("ok\t%s" % name)
    else:
        print("FAIL\t%s\t%s" % (name, why))
    sts = " ".join(str(x) for x in st) or "none (%s)" % r.get("end")
    print("R\t%s\t%s\t%s\t%s\t%s" % (engine, c["label"], sts,
                                     seen(got, legit),
                                     "" if why is None else "FAIL"))
EOF

# The sequential GETs: how many, on how many agent connections, and
# whatever is wrong with their identity headers.
cat >"$T/seqcheck.py" <<'EOF'
import json
import sys

sys.path.insert(0, sys.argv[1])
from netcheck import identity_problem  # noqa: E402

recs = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
seq = [r for r in recs if (r.get("path") or "").startswith("/seq")]
bad = [identity_problem(r, sys.argv[3]) for r in seq]
print("%d requests on %d connection(s)%s" % (
    len(seq), len({r["conn"] for r in seq}),
    "".join("; " + b for b in bad if b)))
EOF

TSV=$OUT_DIR/net_smuggling.tsv
printf 'engine\tcase\tstatuses\tagent saw\tverdict\n' >"$TSV"
python3 "$T/gen.py" "$T/cases.json"
NCASES=$(j "$T/cases.json" 'len(d)')
IDA=(--network-id "$ID")

# The same cases through the fleet: the built-in engine behind fleet add.
for engine in "${ENGINES[@]}" fleet; do
	case_begin "$engine" || continue
	if attack_agent_start && proxy_start "$engine"; then
		client cases "$T/cases.json" --idle 1.5 --timeout 20
		agent_settle
		python3 "$T/check.py" "$T/cases.json" "$D/c.json" "$REC" "$engine" "$ID" \
			>"$D/verdicts" 2>"$D/check.err"
		if [ -s "$D/check.err" ]; then
			fail "$CASE: checker" "$(escape_file "$D/check.err" 300)"
		fi
		check "$CASE: a verdict for each of the $NCASES cases" \
			"$(grep -c '^R' "$D/verdicts")" "$NCASES"
		verdicts "$D/verdicts"
		grep '^R' "$D/verdicts" | cut -f2- >>"$TSV"
		proxy_alive "$CASE: proxy alive" "$D/proxy.err"
		# And it still serves a plain request.
		printf 'GET /after HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >"$D/plain"
		client send "$D/plain"
		check "$CASE: a plain request afterwards: 200" "$(j "$D/c.json" 'd.get("status")')" 200
		if [ "$engine" != haproxy ]; then
			# Reuse for certain: three GETs one after another go on
			# one agent connection, each with our headers alone. One
			# client process for the three, a connection each: a
			# process started per request may take longer than the
			# agent connection's idle timeout (2 s) on a loaded machine.
			curl -sS --noproxy '*' --max-time 10 -H 'Connection: close' \
				-o /dev/null -o /dev/null -o /dev/null \
				"http://127.0.0.1:$PORT/seq1" "http://127.0.0.1:$PORT/seq2" \
				"http://127.0.0.1:$PORT/seq3" 2>>"$D/curl.err"
			check "$CASE: three GETs in a row: one agent connection, our headers alone" \
				"$(python3 "$T/seqcheck.py" "$T" "$REC" "$ID")" "3 requests on 1 connection(s)"
		fi
		proxy_stop "$D/proxy.err"
	fi
	case_end
done

MD=$OUT_DIR/net_smuggling.md
python3 - "$TSV" "$T/cases.json" >"$MD" <<'EOF'
import json
import sys

rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
cases = json.load(open(sys.argv[2]))
res = {(r[0], r[1]): r for r in rows}
print("| case | built-in: status / agent saw | haproxy: status / agent saw |")
print("|---|---|---|")
for c in cases:
    cell = []
    for e in ("builtin", "haproxy"):
        r = res.get((e, c["label"]))
        cell.append("-" if r is None else "%s / %s%s" % (
            r[2], r[3].replace("|", "\\|"), " **FAIL**" if r[4] else ""))
    label = c["label"].replace("|", "\\|").replace("<", "&lt;")
    if c["refuse"]:
        label += " (built-in must refuse)"
    print("| %s | %s | %s |" % (label, cell[0], cell[1]))
EOF
echo "== request smuggling: status(es) the client got / what the agent saw, request by request (its path: a, b, or hidden, the request the case hides; [framing headers]; body as sent or re-framed)"
cat "$MD"
echo "(every case: $TSV; $(($(ms) - T0)) ms)"
finish
