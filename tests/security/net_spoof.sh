#!/bin/bash
# Spoofed identity: a VM sends the headers that tell the metadata agent who
# it is (X-Neutron-Network-ID, X-Neutron-Router-ID, X-OVN-Network-ID, any
# other X-Neutron-*/X-OVN-* name) and X-Forwarded-For itself, under every
# spelling a WSGI agent reads as the same name (any case, '_' for '-'),
# with blanks around the value, blanks before the colon, folded onto a
# continuation line, repeated with the real value before or after the
# spoof, first after the request line. For each flavour (network, router,
# OVN) and each engine (haproxy, builtin) every case must end in one of:
#   refused   an error status, and nothing reaches the agent
#   stripped  200, and the agent saw exactly one X-Forwarded-For (the
#             client's address) and exactly one id header (the real id),
#             no other X-Neutron-*/X-OVN-* header under any spelling, no
#             obs-fold line and no header name with blanks in it
# A blank before the colon must be refused by the built-in engine (RFC 9112
# 5.1: 400). The outcome of every case is written to
# $NMP_BUILD_DIR/security/net_spoof.{tsv,md}.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/net_lib.sh"
net_prereqs
T0=$(ms)

# The cases: one request each, on its own connection, all at once.
cat >"$T/gen.py" <<'EOF'
import json
import sys

out, own, real, evil, evil_ip = sys.argv[1:6]
NAMES = [("X-Neutron-Network-ID", evil), ("X-Neutron-Router-ID", evil),
         ("X-OVN-Network-ID", evil), ("X-Neutron-Instance-ID", evil),
         ("X-OVN-Chassis", evil), ("X-Forwarded-For", evil_ip)]


def odd(n):
    return "".join(c.upper() if i % 3 == 1 else c.lower()
                   for i, c in enumerate(n))


SPELLINGS = [("as is", lambda n: n), ("odd case", odd),
             ("underscores", lambda n: n.replace("-", "_")),
             ("odd case, one underscore", lambda n: odd(n).replace("-", "_", 1))]
# (variant, header lines given spelling s, spoof v and real value r,
#  lines before Host or not, the built-in engine must refuse)
VARIANTS = [
    ("plain", "{s}: {v}", False, False),
    ("value in spaces", "{s}:   {v}   ", False, False),
    ("value in tabs", "{s}:\t{v}\t", False, False),
    ("value in tabs and spaces", "{s}:\t \t{v} \t ", False, False),
    ("space before colon", "{s} : {v}", False, True),
    ("tab before colon", "{s}\t: {v}", False, True),
    ("folded after another header (SP)", "X-Fold: a\r\n {s}: {v}", False, False),
    ("folded after another header (HTAB)", "X-Fold: a\r\n\t{s}: {v}", False, False),
    ("own value folded", "{s}:\r\n {v}", False, False),
    ("real value, spoof folded on", "{s}: {r}\r\n {v}", False, False),
    ("twice, real first", "{s}: {r}\r\n{s}: {v}", False, False),
    ("twice, spoof first", "{s}: {v}\r\n{s}: {r}", False, False),
    ("list, spoof first", "{s}: {v}, {r}", False, False),
    ("first line, leading space", " {s}: {v}", True, False),
]
cases = []
for vname, tmpl, first, refuse in VARIANTS:
    for n, v in NAMES:
        r = real if n == own else ("127.0.0.1" if n == "X-Forwarded-For"
                                   else real)
        for sname, sp in SPELLINGS:
            i = len(cases)
            lines = tmpl.format(s=sp(n), v=v, r=r)
            head = "GET /spoof/%d HTTP/1.1\r\n" % i
            if first:
                head += lines + "\r\nHost: 127.0.0.1\r\n"
            else:
                head += "Host: 127.0.0.1\r\n" + lines + "\r\n"
            head += "Connection: close\r\n\r\n"
            cases.append({"name": "s%d" % i, "path": "/spoof/%d" % i,
                          "variant": vname, "header": n, "spelling": sname,
                          "refuse_builtin": refuse, "data": head})
# Everything at once, twice.
lines = "".join("%s: %s\r\n" % (sp(n), v) for n, v in NAMES
                for _, sp in SPELLINGS)
i = len(cases)
cases.append({"name": "s%d" % i, "path": "/spoof/%d" % i,
              "variant": "all names and spellings, twice", "header": "all",
              "spelling": "all", "refuse_builtin": False,
              "data": "GET /spoof/%d HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s"
                      "Connection: close\r\n\r\n" % (i, lines, lines)})
json.dump(cases, open(out, "w"))
EOF

# The verdicts: "ok<TAB>NAME" / "FAIL<TAB>NAME<TAB>WHY" lines, and one "R" line per
# case for the table.
cat >"$T/check.py" <<'EOF'
import json
import sys

from netcheck import load

cases_f, res_f, rec_f, engine, flavor, own, real, evil, evil_ip = sys.argv[1:10]
cases, res, recs = load(cases_f, res_f, rec_f)


def wsgi(n):
    return n.strip().upper().replace("-", "_")


OWN = wsgi(own)
by_path = {}
for r in recs:
    by_path.setdefault(r.get("path"), []).append(r)
known = {c["path"] for c in cases}
stray = [r for r in recs if r.get("path") not in known]
tag = "%s %s" % (engine, flavor)
if stray:
    print("FAIL\t%s: no request the client did not send\t%d stray records, "
          "first %s" % (tag, len(stray), json.dumps(stray[0])[:300]))
else:
    print("ok\t%s: no request the client did not send" % tag)

for c in cases:
    name = "%s: %s, %s, %s" % (tag, c["variant"], c["header"], c["spelling"])
    r = res.get(c["name"], {})
    st = r.get("statuses", [])
    got = by_path.get(c["path"], [])
    why = None
    note = ""
    if len(st) == 1 and isinstance(st[0], int) and st[0] >= 400 and not got:
        outcome = "refused %d" % st[0]
        if st[0] >= 500:
            why = "refused with a server error %d" % st[0]
    elif st == [200] and len(got) == 1 and got[0]["kind"] == "request":
        g = got[0]
        outcome = "200 stripped"
        env = {}
        for n, v in g["headers"]:
            env.setdefault(wsgi(n), []).append(v.strip())
        xff = env.get("X_FORWARDED_FOR", [])
        ids = env.get(OWN, [])
        other = sorted(k for k in env if k != OWN and
                       (k.startswith("X_NEUTRON_") or k.startswith("X_OVN_")))
        lines = g["head_raw"].split("\r\n")[1:]
        if xff != ["127.0.0.1"]:
            why = "agent saw X-Forwarded-For %s" % xff
        elif ids != [real]:
            why = "agent saw %s %s" % (own, ids)
        elif other:
            why = "agent saw %s" % other
        elif any(l[:1] in (" ", "\t") for l in lines):
            why = "an obs-fold line reached the agent"
        elif any(any(ch in " \t" for ch in l.partition(":")[0])
                 for l in lines):
            why = "a header name with blanks reached the agent"
        elif evil in g["head_raw"] or evil_ip in g["head_raw"]:
            carriers = [n for n, v in g["headers"]
                        if evil in v or evil_ip in v]
            outcome = "200 stripped, spoof text left inside %s" % \
                ",".join(sorted(set(carriers)))
    else:
        outcome = "statuses %s, %d agent records" % (st, len(got))
        why = "neither refused nor forwarded once: statuses %s (%s), " \
              "agent records %s" % (st, r.get("end"),
                                    json.dumps(got)[:300])
    if why is None and engine in ("builtin", "fleet") and c["refuse_builtin"] and \
            not outcome.startswith("refused 400"):
        why = "the built-in engine must refuse this with 400, got %s" % \
              outcome
    if why is None:
        print("ok\t%s" % name)
    else:
        print("FAIL\t%s\t%s" % (name, why))
        outcome = "FAIL: " + outcome
    print("R\t%s\t%s\t%s\t%s\t%s\t%s" % (engine, flavor, c["variant"],
                                          c["header"], c["spelling"],
                                          outcome))
EOF

TSV=$OUT_DIR/net_spoof.tsv
printf 'engine\tflavor\tvariant\theader\tspelling\toutcome\n' >"$TSV"

# flavour: name, id header, id, id options
FLAVORS=(
	"network|X-Neutron-Network-ID|$ID|--network-id $ID"
	"router|X-Neutron-Router-ID|$ID2|--router-id $ID2"
	"ovn|X-OVN-Network-ID|$ID|--network-id $ID --flavor ovn"
)

# The same cases through the fleet: the built-in engine behind fleet add.
for engine in "${ENGINES[@]}" fleet; do
	for f in "${FLAVORS[@]}"; do
		IFS='|' read -r flavor own real idargs <<<"$f"
		read -r -a IDA <<<"$idargs"
		case_begin "$engine $flavor" || continue
		python3 "$T/gen.py" "$D/cases.json" "$own" "$real" "$EVIL" "$EVIL_IP"
		# Every case at once from one address: no per-source cap here.
		if attack_agent_start && proxy_start "$engine" --max-conns-per-source 0; then
			client cases "$D/cases.json" --idle 2 --timeout 20
			agent_settle
			python3 "$T/check.py" "$D/cases.json" "$D/c.json" "$REC" \
				"$engine" "$flavor" "$own" "$real" "$EVIL" "$EVIL_IP" >"$D/verdicts" 2>"$D/check.err"
			if [ -s "$D/check.err" ]; then
				fail "$CASE: checker" "$(escape_file "$D/check.err" 300)"
			fi
			n=$(grep -c '^R' "$D/verdicts")
			want=$(j "$D/cases.json" 'len(d)')
			check "$CASE: a verdict for each of the $want cases" "$n" "$want"
			verdicts "$D/verdicts"
			grep '^R' "$D/verdicts" | cut -f2- >>"$TSV"
			proxy_alive "$CASE: proxy alive" "$D/proxy.err"
			proxy_stop "$D/proxy.err"
		fi
		case_end
	done
done

# The table for the docs: per variant, what each engine did over every
# header, spelling and flavour (count of cases per outcome).
MD=$OUT_DIR/net_spoof.md
python3 - "$TSV" >"$MD" <<'EOF'
import collections
import sys

rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
variants = []
cell = collections.defaultdict(collections.Counter)
for engine, flavor, variant, header, spelling, outcome in rows:
    if variant not in variants:
        variants.append(variant)
    cell[(variant, engine)][outcome] += 1


def show(c):
    return "; ".join("%s (%d)" % (o, n) for o, n in sorted(c.items()))


print("| spoof | haproxy | builtin |")
print("|---|---|---|")
for v in variants:
    print("| %s | %s | %s |" % (v, show(cell[(v, "haproxy")]),
                                show(cell[(v, "builtin")])))
EOF
echo "== spoofed identity headers: outcome per variant (cases: 6 header names x 4 spellings x 3 flavours; refused = nothing reached the agent; stripped = the agent saw only our headers)"
cat "$MD"
echo "(every case: $TSV; $(($(ms) - T0)) ms)"
finish
