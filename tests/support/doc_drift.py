#!/usr/bin/env python3
"""What the man page and README say against what --help says (tests/docs/man.sh).

usage: doc_drift.py HELP_TEXT_FILE MAN_PAGE README

Prints one line per disagreement, nothing when they agree: every option
--help lists has an entry in the page (both spellings of a flag) with the
default --help gives; every command and exit code --help names is in the
page; README names no option --help does not list, and the haproxy search
directories in --help's order.
"""
import re, sys

help_text = open(sys.argv[1], encoding="utf-8").read()
page = open(sys.argv[2], encoding="utf-8").read()

# The page's option entries: from ".It Fl ..." up to the next .It/.El,
# under every long name on that line; their text with the macros dropped.
entries = {}
current = None
for line in page.splitlines():
    if line.startswith(".It ") or line.startswith(".El"):
        current = None
    if line.startswith(".It Fl "):
        current = []
        for name in re.findall(r"Fl \\-([a-z0-9-]+)", line):
            entries[name] = current
    if current is not None:
        current.append(line)

def text(name):
    body = "\n".join(entries.get(name, []))
    body = re.sub(r"(^|\n)\.[A-Z][a-z] ", " ", body)
    return re.sub(r"\s+", " ", body.replace("\\-", "-"))

# What --help's defaults read as in the page.
SAID = {
    "effective uid": "effective user",
    "effective gid": "effective group",
    "off; on as neutron-ns-metadata-proxy": "Default: off, and on when started as",
    "the first haproxy in /usr/sbin, /usr/local/sbin, /usr/bin, /usr/local/bin, /sbin":
        "the first haproxy in /usr/sbin , /usr/local/sbin , /usr/bin , /usr/local/bin , /sbin",
    "<state-path>/metadata_proxy": "<state-path>/metadata_proxy",
}

n = 0
for line in help_text.splitlines():
    m = re.match(r"\s+--(\[no\])?([a-z0-9-]+)(.*)", line)
    if not m:
        continue
    n += 1
    names = [m.group(2)] + (["no" + m.group(2)] if m.group(1) else [])
    for name in names:
        if name not in entries:
            print(f"--{name}: no entry in the OPTIONS section")
    d = re.search(r"\[default: (.*)\]$", m.group(3))
    if d and names[0] in entries:
        want = SAID.get(d.group(1), "Default: " + d.group(1))
        if want not in text(names[0]):
            print(f"--{names[0]}: the page does not give the default '{d.group(1)}'")
if n < 30:
    print(f"only {n} options found in --help")

commands = re.findall(r"^  ([a-z]+)  ", help_text, re.M)
if len(commands) < 6:
    print(f"only {len(commands)} commands found in --help")
for c in commands:
    if not re.search(r"^\.It Cm " + c + r"$", page, re.M):
        print(f"command {c}: no entry in the COMMANDS section")

# README: every option it names is one --help lists, and it searches for
# haproxy where --help says, in that order.
readme = open(sys.argv[3], encoding="utf-8").read()
listed = set()
for line in help_text.splitlines():
    m = re.match(r"\s+--(\[no\])?([a-z0-9-]+)", line)
    if m:
        listed.add(m.group(2))
        if m.group(1):
            listed.add("no" + m.group(2))
for opt in sorted(set(re.findall(r"`--([a-z0-9_-]+)", readme))):
    name = opt.replace("_", "-")
    if name != "opt" and name not in listed and not (name.startswith("no") and name[2:].lstrip("-") in listed):
        print(f"README names --{opt}, which --help does not list")
dirs = re.search(r"\[default: the first haproxy in ([^\]]+)\]", help_text)
if not dirs:
    print("--help gives no haproxy search directories")
else:
    want = ", ".join("`%s`" % d for d in dirs.group(1).split(", "))
    if want not in re.sub(r"\s+", " ", readme):
        print(f"README does not search for haproxy in {dirs.group(1)}")

exit_part = page[page.index(".Sh EXIT STATUS"):page.index(".Sh EXAMPLES")]
codes = set(re.findall(r"\b(\d{2,3})\b", help_text[help_text.index("exit codes:"):]))
for code in sorted(codes):
    if not re.search(r"^\.It " + code + r"\b|, " + code + r"$", exit_part, re.M):
        print(f"exit code {code}: not in EXIT STATUS")
