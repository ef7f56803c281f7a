#!/usr/bin/python3
"""Read a Prometheus text exposition (format 0.0.4) on stdin, check it, and
print its samples as JSON: {"name{label=\"v\",...}": value}, labels in the
order they came.

The parse is prometheus_client's own (Debian's python3-prometheus-client),
which is lenient; on top of it this checks what a Prometheus server would
refuse or misread: every line a comment, a blank or a sample; each family's
TYPE before its samples and given once; a family's samples together, never
interleaved with another's; no sample twice; a histogram's buckets
cumulative with le="+Inf" equal to its _count. Exit 1 with one line on
stderr on the first problem.
"""
import json
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(
    r"^(%s)(\{(?:%s)(?:,%s)*\})? (-?[0-9.e+]+|\+Inf|NaN)$" % (NAME, LABEL, LABEL))
SUFFIXES = ("_bucket", "_sum", "_count", "_total")


def die(msg):
    print("prom_check: " + msg, file=sys.stderr)
    sys.exit(1)


def family_of(name, types):
    if name in types:
        return name
    for suf in SUFFIXES:
        if name.endswith(suf) and name[: -len(suf)] in types:
            return name[: -len(suf)]
    return None


def main():
    text = sys.stdin.read()
    if not text.endswith("\n"):
        die("the text does not end with a newline")
    types, seen, done, out = {}, set(), set(), {}
    current = None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[3] not in (
                    "counter", "gauge", "histogram", "summary", "untyped"):
                die("line %d: bad TYPE line: %r" % (n, line))
            if parts[2] in types:
                die("line %d: a second TYPE for %s" % (n, parts[2]))
            types[parts[2]] = parts[3]
            continue
        if line.startswith("#") or line == "":
            continue
        m = SAMPLE.match(line)
        if not m:
            die("line %d: not a sample: %r" % (n, line))
        fam = family_of(m.group(1), types)
        if fam is None:
            die("line %d: %s has no TYPE before it" % (n, m.group(1)))
        if fam != current:
            if fam in done:
                die("line %d: samples of %s apart from the others" % (n, fam))
            if current is not None:
                done.add(current)
            current = fam
        key = m.group(1) + (m.group(2) or "")
        if key in seen:
            die("line %d: %s twice" % (n, key))
        seen.add(key)
        out[key] = float(m.group(3))
    # The library's own parse must accept it too, and agree on each value.
    count = 0
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            count += 1
            if s.name.endswith("_bucket"):
                continue
            key = s.name + ("{" + ",".join(
                '%s="%s"' % (k, v.replace("\\", "\\\\").replace('"', '\\"')
                             .replace("\n", "\\n"))
                for k, v in s.labels.items()) + "}" if s.labels else "")
            if out.get(key) != s.value:
                die("prometheus_client reads %s as %r, we as %r" %
                    (key, s.value, out.get(key)))
        if fam.type == "histogram":
            check_histogram(fam)
    if count != len(out):
        die("prometheus_client found %d samples, we %d" % (count, len(out)))
    json.dump(out, sys.stdout, sort_keys=True)
    print()


def check_histogram(fam):
    series = {}
    for s in fam.samples:
        labels = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        series.setdefault(labels, []).append(s)
    for labels, samples in series.items():
        last, inf, count = -1.0, None, None
        for s in samples:
            if s.name.endswith("_bucket"):
                if s.value < last:
                    die("%s %s: buckets not cumulative" % (fam.name, labels))
                last = s.value
                if s.labels["le"] == "+Inf":
                    inf = s.value
            elif s.name.endswith("_count"):
                count = s.value
        if inf is None or inf != count:
            die("%s %s: +Inf bucket %r, count %r" % (fam.name, labels, inf, count))


if __name__ == "__main__":
    main()
