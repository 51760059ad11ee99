#!/usr/bin/env python3
"""Reduces JMH's JSON (-rf json) to the medians of each benchmark and parameter set, for bench/results/."""
import json
import statistics
import sys


def main(source, target):
    with open(source) as f:
        runs = json.load(f)
    results = []
    for run in runs:
        metric = run["primaryMetric"]
        samples = [v for fork in metric.get("rawData", []) for v in fork]
        if not samples and metric.get("rawDataHistogram"):
            samples = [v for fork in metric["rawDataHistogram"] for it in fork for v, n in it for _ in range(int(n))]
        entry = {
            "benchmark": run["benchmark"].rsplit(".", 2)[-2] + "." + run["benchmark"].rsplit(".", 1)[-1],
            "params": run.get("params", {}),
            "mode": run["mode"],
            "unit": metric["scoreUnit"],
            "median": round(statistics.median(samples), 3) if samples else metric["score"],
            "mean": round(metric["score"], 3),
        }
        if metric.get("scorePercentiles"):
            entry["percentiles"] = {k: round(v, 3) for k, v in metric["scorePercentiles"].items()
                                    if k in ("50.0", "99.0", "99.9")}
        results.append(entry)
    with open(target, "w") as f:
        json.dump({"jmhVersion": runs[0]["jmhVersion"], "jdk": runs[0]["jdkVersion"], "results": results}, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
