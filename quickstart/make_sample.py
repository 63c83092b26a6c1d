#!/usr/bin/env python3
"""Regenerates the quickstart's sample data (deterministic; the committed files are its output).

    python3 quickstart/make_sample.py

Three hours of one-minute CloudWatch metric-stream records for two EC2 instances and an
Application Load Balancer, with incidents the quickstart alarms are meant to catch, plus a small
Embedded Metric Format log from a Lambda function. Two deliberately broken records show how bad
input is counted and dead-lettered without disturbing the rest.
"""
import json
import math
import os
import random

START = 1772442000  # 2026-03-02T09:00:00Z
MINUTES = 180
ACCOUNT = "123456789012"
REGION = "us-east-1"
HERE = os.path.dirname(os.path.abspath(__file__))

rng = random.Random(20260302)


def minute(m):
    return (START + 60 * m) * 1000


def stream(namespace, name, dims, ts, count, total, lo, hi, unit, extra=None):
    value = {"count": float(count), "sum": round(total, 4), "min": round(lo, 4), "max": round(hi, 4)}
    if extra:
        value.update({k: round(v, 4) for k, v in extra.items()})
    return {"metric_stream_name": "quickstart", "account_id": ACCOUNT, "region": REGION,
            "namespace": namespace, "metric_name": name, "dimensions": dims,
            "timestamp": ts, "value": value, "unit": unit}


def cpu(base, m, incident):
    v = base + 4 * math.sin(m / 17.0) + rng.gauss(0, 2.5)
    if incident:
        v = 91 + rng.gauss(0, 3)
    return max(0.5, min(100.0, v))


lines = []
for m in range(MINUTES):
    ts = minute(m)
    # web-1: CPU saturates from 10:10 to 10:35.
    v = cpu(35, m, 70 <= m < 95)
    lines.append(stream("AWS/EC2", "CPUUtilization", {"InstanceId": "i-0a1b2c3d4e5f60001"}, ts,
                        1, v, v, v, "Percent"))
    # web-2: healthy, but stops reporting from 11:20 to 11:45.
    if not (140 <= m < 165):
        v = cpu(28, m, False)
        lines.append(stream("AWS/EC2", "CPUUtilization", {"InstanceId": "i-0a1b2c3d4e5f60002"},
                            ts, 1, v, v, v, "Percent"))
    # The load balancer: requests, 5XX errors and latency percentiles.
    lb = {"LoadBalancer": "app/api/50dbd1f0f7b3a1c2"}
    requests = int(900 + 200 * math.sin(m / 30.0) + rng.gauss(0, 40))
    incident = 120 <= m < 133  # 11:00-11:13
    errors = rng.randint(25, 60) if incident else rng.choice([0, 0, 0, 1, 2])
    lines.append(stream("AWS/ApplicationELB", "RequestCount", lb, ts, requests, requests, 1, 1,
                        "Count"))
    lines.append(stream("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", lb, ts,
                        max(errors, 1), errors, 0 if errors == 0 else 1, 0 if errors == 0 else 1,
                        "Count"))
    p50 = 0.08 + rng.gauss(0, 0.005)
    p99 = (0.9 if incident else 0.25) + rng.gauss(0, 0.03)
    mean = p50 * 1.3
    lines.append(stream("AWS/ApplicationELB", "TargetResponseTime", lb, ts, requests,
                        mean * requests, 0.004, p99 * 1.8, "Seconds",
                        {"p50": p50, "p90": (p50 + p99) / 2, "p99": p99}))

out = [json.dumps(r, separators=(",", ":")) for r in lines]
# Two broken records, as real pipelines deliver them now and then.
out.insert(200, out[200].replace('"sum":', '"sum":NaN,"x":'))
out.insert(401, out[401][: len(out[401]) // 2])
with open(os.path.join(HERE, "metrics.jsonl"), "w") as f:
    f.write("\n".join(out) + "\n")

# A Lambda function's Embedded Metric Format log: checkout latency in milliseconds.
emf = []
for m in range(MINUTES):
    for k in range(1):
        ts = minute(m) + 15000 * k + rng.randint(0, 9000)
        slow = 150 <= m < 160
        values = [round(max(5.0, rng.gauss(420 if slow else 120, 30)), 1) for _ in range(4)]
        event = {"_aws": {"Timestamp": ts, "CloudWatchMetrics": [{
            "Namespace": "Shop/Checkout", "Dimensions": [["Service"]],
            "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}]}]},
            "Service": "checkout", "Latency": values,
            "requestId": "%08x-quickstart" % rng.getrandbits(32)}
        emf.append(json.dumps(event, separators=(",", ":")))
with open(os.path.join(HERE, "checkout-emf.log"), "w") as f:
    f.write("\n".join(emf) + "\n")
