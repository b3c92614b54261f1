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
                    "## 5. Queries", "## 6. Resources", "## 7. Peer", "## 8. Detections", "## Targets"):
        if heading not in md:
            errors.append("report.md lacks section " + heading)
    checks = {
        "limit 100": rep["limit"]["raw_rocksdb_synced_100"] and rep["limit"]["raw_rocksdb_synced_100"].get("events_per_s"),
        "limit 500": rep["limit"]["raw_rocksdb_synced_500"] and rep["limit"]["raw_rocksdb_synced_500"].get("events_per_s"),
        "fair limit 100": rep["limit"]["fair_100"] and rep["limit"]["fair_100"].get("events_per_s"),
        "fair limit 500": rep["limit"]["fair_500"] and rep["limit"]["fair_500"].get("events_per_s"),
        "fair limit threads": rep["limit"]["fair_500"] and rep["limit"]["fair_500"].get("threads"),
        "collector gen": rep["collector_alone"]["gen_100"].get("events_per_s"),
        "collector ratio": rep["collector_alone"]["gen_100"].get("ratio_to_limit"),
        "collector invictus": rep["collector_alone"]["invictus_100"].get("events_per_s"),
        "e2e": rep["end_to_end"].get("events_per_s"),
        "e2e ratio": rep["end_to_end"].get("ratio_to_limit_500"),
        "collector rss": rep["resources"]["collector_whole_run"].get("max_rss_mib"),
        "bytes per event": rep["resources"].get("bytes_on_disk_per_event"),
        "jq ratio": rep["queries"].get("jq_over_lookup_p50"),
    }
    steps = rep["latency"].get("steps") or []
    if not steps:
        errors.append("latency section without steps")
    runs = [("step %s" % d.get("offered_rate"), d) for d in steps] + [("20k", rep["latency"].get("20k") or {})]
    for name, lat in runs:
        checks["latency %s durable p99" % name] = lat.get("durable_p99_ms")
        if not isinstance(lat.get("probes_missing"), int) or not isinstance(lat.get("held"), bool):
            errors.append("latency %s without probes_missing / held (%r)" % (name, lat.get("failure")))
    if not isinstance(rep["latency"].get("highest_held_rate"), int):
        errors.append("latency without the highest rate that held")
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
    det = rep.get("detections") or {}
    if not det.get("rounds"):
        errors.append("detections section without rounds")
    elif not (positive(det.get("on_over_off")) or det.get("reason")):
        errors.append("detections without the with/without-rules ratio and without a reason")
    if not (positive((det.get("hunt") or {}).get("hunt_over_raw")) or det.get("hunt_reason")):
        errors.append("detections without the retro-hunt ratio and without a reason")
    targets = rep.get("targets") or []
    if len(targets) < 8:
        errors.append("targets table incomplete")
    for t in targets:
        if t.get("status") not in ("reached", "not reached", None):
            errors.append("target %r has status %r" % (t.get("target"), t.get("status")))
        if t.get("status") is None and not t.get("note"):
            errors.append("target %r is n/a without a reason" % t.get("target"))
    # A target that needs the 10M-event store is judged only on it (else n/a, never reached/not reached).
    stores = {"LookupEvents p99": rep["queries"]["lookup_bench"].get("events") or 0,
              "collector RSS": (rep["resources"].get("disk") or {}).get("events_in_store") or 0}
    for t in targets:
        for prefix, events in stores.items():
            if t.get("target", "").startswith(prefix) and events < 10_000_000 and t.get("status") is not None:
                errors.append("target %r judged on a store of %d events" % (t["target"], events))
    for e in errors:
        print("check_report: " + e, file=sys.stderr)
    print("check_report: %s (%d problems)" % ("OK" if not errors else "FAILED", len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
