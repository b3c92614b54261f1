#!/usr/bin/env python3
"""check_report.py OUT_DIR: structural check of a bench/run.sh report (used by the smoke test).

Passes when report.md has all sections and report.json has a positive number for every
measured figure; the peer may instead be explicitly marked unavailable with a reason.
Never looks at whether a figure is good: no timing assertions.
"""
import json
import os
import sys


def positive(x):
    return isinstance(x, (int, float)) and x > 0


def main():
    out = sys.argv[1]
    md = open(os.path.join(out, "report.md")).read()
    rep = json.load(open(os.path.join(out, "report.json")))
    errors = []
    for heading in ("## 1. The limit", "## 2. Collector alone", "## 3. End to end", "## 4. Latency",
                    "## 5. Queries", "## 6. Resources", "## 7. Peer", "## Targets"):
        if heading not in md:
            errors.append("report.md lacks section " + heading)
    checks = {
        "limit 100": rep["limit"]["raw_rocksdb_synced_100"] and rep["limit"]["raw_rocksdb_synced_100"].get("events_per_s"),
        "limit 500": rep["limit"]["raw_rocksdb_synced_500"] and rep["limit"]["raw_rocksdb_synced_500"].get("events_per_s"),
        "collector gen": rep["collector_alone"]["gen_100"].get("events_per_s"),
        "collector ratio": rep["collector_alone"]["gen_100"].get("ratio_to_limit"),
        "collector invictus": rep["collector_alone"]["invictus_100"].get("events_per_s"),
        "e2e": rep["end_to_end"].get("events_per_s"),
        "e2e ratio": rep["end_to_end"].get("ratio_to_limit_500"),
        "collector rss": rep["resources"]["collector_whole_run"].get("max_rss_mib"),
        "bytes per event": rep["resources"].get("bytes_on_disk_per_event"),
        "jq ratio": rep["queries"].get("jq_over_lookup_p50"),
    }
    for k in ("1k", "10k", "max"):
        lat = rep["latency"].get(k) or {}
        checks["latency %s durable p99" % k] = lat.get("durable_p99_ms")
        checks["latency %s visible p99" % k] = lat.get("visible_p99_ms")
    lk = rep["queries"].get("grpc_on_run_store") or {}
    checks["grpc lookups"] = len(lk.get("queries") or [])
    checks["lookup_bench queries"] = len(rep["queries"]["lookup_bench"].get("queries") or [])
    agents = rep["resources"].get("agents") or {}
    checks["agent rss"] = max([a.get("max_rss_mib") or 0 for a in agents.values()], default=0)
    for name, value in checks.items():
        if not positive(value):
            errors.append("no number for %s (got %r)" % (name, value))
    peer = rep["peer"]
    if not peer.get("rounds"):
        if not (peer.get("input") or {}).get("reason"):
            errors.append("peer section without rounds and without a reason")
    else:
        o = peer["orgtrail"]
        for k in ("median_events_per_s", "median_sender_cpu_us_per_event", "median_receiver_cpu_us_per_event"):
            if not positive(o.get(k)):
                errors.append("peer orgtrail side without %s (got %r; %s)" % (k, o.get(k), o.get("reason")))
        r = peer["rsyslog"]
        if r.get("runs"):
            for k in ("median_events_per_s", "median_sender_cpu_us_per_event"):
                if not positive(r.get(k)):
                    errors.append("peer rsyslog side without %s (got %r)" % (k, r.get(k)))
            if not positive(peer.get("ratio_orgtrail_over_rsyslog")):
                errors.append("peer without the orgtrail/rsyslog ratio")
        elif not r.get("reason"):
            errors.append("rsyslog peer unavailable without a reason")
        if "before its fsync" not in md:
            errors.append("peer section does not state rsyslog's durability")
    if len(rep.get("targets") or []) < 8:
        errors.append("targets table incomplete")
    for e in errors:
        print("check_report: " + e, file=sys.stderr)
    print("check_report: %s (%d problems)" % ("OK" if not errors else "FAILED", len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
