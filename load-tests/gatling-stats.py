#!/usr/bin/env python3
"""Prints a Gatling run's figures per request from its HTML report's js/stats.js (Gatling 3.13
writes the figures there as a JavaScript object literal): requests, failures, req/s, mean, p50,
p75, p95, p99, max (ms). --count prints only the number of requests.
  python3 load-tests/gatling-stats.py load-tests/target/gatling/<run>/js/stats.js"""
import json, re, sys

args = [a for a in sys.argv[1:] if not a.startswith("--")]
with open(args[0]) as f:
    text = f.read()
literal = text[text.index("{"):text.index("\nfunction fillStats")].strip().rstrip(";")
literal = re.sub(r'(?m)^(\s*)([A-Za-z_][A-Za-z0-9_]*):', r'\1"\2":', literal)
root = json.loads(literal)

def row(name, s):
    return (name, s["numberOfRequests"]["total"], s["numberOfRequests"]["ko"],
            s["meanNumberOfRequestsPerSecond"]["total"], s["meanResponseTime"]["total"],
            s["percentiles1"]["total"], s["percentiles2"]["total"], s["percentiles3"]["total"],
            s["percentiles4"]["total"], s["maxResponseTime"]["total"])

if "--count" in sys.argv:
    print(int(root["stats"]["numberOfRequests"]["total"]))
    sys.exit(0)
rows = [row("ALL", root["stats"])]
def walk(node):
    for c in node.get("contents", {}).values():
        if c.get("type") == "REQUEST":
            rows.append(row(c["stats"]["name"], c["stats"]))
        walk(c)
walk(root)
print(f"{'request':<40} {'count':>9} {'KO':>6} {'req/s':>9} {'mean':>6} {'p50':>6} {'p75':>6} {'p95':>6} {'p99':>6} {'max':>6}")
for r in rows:
    print(f"{r[0][:40]:<40} {int(r[1]):>9} {int(r[2]):>6} {float(r[3]):>9.1f} " + " ".join(f"{x:>6}" for x in r[4:]))
