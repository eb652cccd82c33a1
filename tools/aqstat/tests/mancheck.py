#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
# mancheck.py AQSTAT: aqstat.8 (beside this directory) against the code:
# every option of --help and of main.c's table is in the man page (and in
# --help); the EXIT STATUS codes are exactly those the code can return;
# every control command of include/aqueue_format.h and every key of an
# event line is described; NAME names each kind of queue; the percentiles
# are said to be a bucket's upper edge; every Prometheus metric has an
# entry under PROMETHEUS, and every JSON member of a listener that aqstat derives
# itself (not a /proc/aqueue key) is named. Prints what is
# wrong, exits 1 then.
import os
import re
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.dirname(here)
man_src = open(os.path.join(src, "aqstat.8"), encoding="utf-8").read()
# the page's text as a reader sees the words: groff's \- is a -
man = man_src.replace("\\-", "-").replace("\\e", "\\")
help_text = subprocess.run([sys.argv[1], "--help"], capture_output=True, text=True, check=True).stdout
code = {f: open(os.path.join(src, f), encoding="utf-8").read()
        for f in os.listdir(src) if f.endswith((".c", ".h"))}
bad = []


def section(name):
    m = re.search(r"^\.SH %s\n(.*?)(?=^\.SH )" % re.escape(name), man, re.S | re.M)
    return m.group(1) if m else ""


# options: --help's, and main.c's getopt tables
helps = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*[a-z]|-[A-Za-z0-9])\b", help_text))
longs = set("--" + n for n in re.findall(r'\{ "([a-z-]+)", (?:no|required)_argument', code["main.c"]))
shorts = set("-" + c for c in re.search(r'getopt_long\(argc, argv, "([^"]+)"', code["main.c"]).group(1) if c != ":")
for o in sorted(helps | longs | shorts):
    if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o), man):
        bad.append("option %s is not in aqstat.8" % o)
for o in sorted(longs | shorts):
    if o not in helps:
        bad.append("option %s is not in --help" % o)

# exit codes: the page's list against die.h's values the code returns
values = {n: int(v) for n, v in re.findall(r"(EX_[A-Z]+) = (\d+)", code["die.h"])}
used = set()
for f, text in code.items():
    if f == "die.h":
        continue
    used |= set(values[n] for n in re.findall(r"\b(EX_[A-Z]+)\b", text) if n in values)
listed = set(int(n) for n in re.findall(r"^\.TP\n\.B (\d+)\n", section("EXIT STATUS"), re.M))
if listed != used:
    bad.append("EXIT STATUS lists %s, the code returns %s" % (sorted(listed), sorted(used)))
for n in re.findall(r"(\d) [a-z]", re.search(r"Exit status:(.*?)See", help_text, re.S).group(1)):
    if int(n) not in used:
        bad.append("--help lists exit code %s, which the code does not return" % n)

# the control commands and the event keys
fmt = open(os.path.join(src, "..", "..", "include", "aqueue_format.h"), encoding="utf-8").read()
control = section("CONTROL")
for cmd in re.findall(r'#define AQUEUE_CMD_\w+\s+"(\w+)"', fmt):
    if not re.search(r"^\.(B|BR|BI) %s\b" % cmd, control, re.M):
        bad.append("control command %s is not in CONTROL" % cmd)
for word in ["port", "netns", "family", "kind"]:
    if not re.search(r'"filter %s"' % word, control):
        bad.append("filter %s is not in CONTROL" % word)
events = section("EVENTS")
keys = re.search(r"keys\[\] = \{(.*?)\};", code["parse_events.c"], re.S).group(1)
names = re.search(r"events\[\] = \{(.*?)\};", code["parse_events.c"], re.S).group(1)
for k in re.findall(r'"(\w+)"', keys) + re.findall(r'"(\w+)"', names) + ["lost", "comm"]:
    if not re.search(r"^\.(B|BR|RB) %s\b|\b%s\b" % (k, k), events, re.M):
        bad.append("event key or name %s is not in EVENTS" % k)

# NAME: each kind of queue; the labels' protos
name = section("NAME")
for w in ["TCP", "unix", "UDP"]:
    if w not in name:
        bad.append("NAME does not say %s" % w)
for p in ["tcp", "tcp6", "udp", "udp6", "unix", "unix-seq"]:
    if not re.search(r"(?<![\w-])%s(?![\w-])" % p, section("PROMETHEUS")):
        bad.append("proto %s is not among the labels" % p)
# The percentiles are a bucket's upper edge (show_table.c), which a reader
# comparing P99 with an objective must know.
if not re.search(r"P50, P99 and MAX.{0,80}upper edge of the log2 bucket", man, re.S):
    bad.append("the page does not say that P50 and P99 are the upper edge of a log2 bucket")
# Every metric the code writes has an entry under PROMETHEUS (a .TP
# whose tag names it).
prom_tags = " ".join(re.findall(r"^\.TP\n\.BR? (.*)$", section("PROMETHEUS"), re.M))
for m in sorted(set(re.findall(r'"(aqueue_[a-z0-9_]+)"', code["fields.c"] + code["show_prom.c"]))):
    if not re.search(r"(?<![\w])%s(?![\w])" % m, prom_tags):
        bad.append("metric %s has no entry under PROMETHEUS" % m)
# A listener's JSON member that aqstat makes itself, not a key of
# /proc/aqueue (which the page covers as "every field of the row and the
# detail line") nor a histogram, is named in the page: no other page
# says what aqstat derives (backlog_clamped, backlog_needed, ...).
schema = __import__("json").load(open(os.path.join(src, "aqstat.schema.json"), encoding="utf-8"))
proc_keys = set(re.findall(r"\b(?:FIELD|LIVE|F3|F3_OPT)\(aqs_row, (\w+)\)", code["parse_proc.c"]))
proc_keys |= set(re.findall(r'"(\w+)"', re.search(r"header\[\] = \{(.*?)\};", code["parse_proc.c"], re.S).group(1)))
for k in sorted(schema["$defs"]["listener"]["properties"]):
    if k in proc_keys or k.endswith("_hist"):
        continue
    if not re.search(r"(?<![\w-])%s(?![\w-])" % k, man):
        bad.append("JSON member %s (aqstat's own) is not in aqstat.8" % k)
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
