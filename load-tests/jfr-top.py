#!/usr/bin/env python3
"""Where the server's CPU goes, from a JFR recording: the share of execution samples per top frame
and per package, and (with a prefix) per frame anywhere on the stack containing it.
  JAVA_OPTS="-XX:StartFlightRecording=filename=/tmp/list.jfr,settings=profile,dumponexit=true" \
    load-tests/run.sh ListInvoicesSimulation 60
  python3 load-tests/jfr-top.py /tmp/list.jfr [uk.co.tradersflow]"""
import collections, re, subprocess, sys

rec = sys.argv[1]
prefix = sys.argv[2] if len(sys.argv) > 2 else None
text = subprocess.run(["jfr", "print", "--events", "jdk.ExecutionSample", "--stack-depth", "64", rec],
                      capture_output=True, text=True, check=True).stdout
stacks = [re.findall(r"^\s+([\w$.<>/]+)\(", block, re.M)
          for block in text.split("jdk.ExecutionSample")[1:]]
stacks = [s for s in stacks if s]
n = len(stacks)
print(f"{n} samples")
top = collections.Counter(s[0] for s in stacks)
for frame, k in top.most_common(25):
    print(f"{100 * k / n:5.1f}%  {frame}")
print("--- self time by package")
pkg = collections.Counter(".".join(s[0].split(".")[:3]) for s in stacks)
for p, k in pkg.most_common(15):
    print(f"{100 * k / n:5.1f}%  {p}")
if prefix:
    print(f"--- total time (on the stack) of {prefix} frames")
    tot = collections.Counter()
    for s in stacks:
        for f in set(x for x in s if x.startswith(prefix)):
            tot[f] += 1
    for f, k in tot.most_common(25):
        print(f"{100 * k / n:5.1f}%  {f}")
