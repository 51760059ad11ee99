"""PyTorch's half of bench/compare, and the report.

Loads each state the engine wrote (state-<MiB>.pth, so both sides save the identical state dict), measures with
Debian's torch: torch.save + fsync on the calling thread; torch.save + fsync in a thread as the reference system
does it (asyncio.to_thread), with the loop's longest stall while it runs and the total; torch.load of the same
file, from disk as a resume reads it (its pages dropped from the page cache first, as the engine's writer and
restore leave them). One unmeasured round first, then medians of the repetitions. Prints one table (engine / PyTorch) and writes
JSON and an SVG chart. Run by bench/compare with /usr/bin/python3.
"""
import argparse
import json
import os
import platform
import statistics
import threading
import time

import torch


def save_durably(state, path):
    torch.save(state, path)
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def uncached(path):
    """Drops the file's pages from the page cache: a resume reads a checkpoint the writer did not leave cached."""
    with open(path, "rb") as f:
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    return path


def timed(fn):
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def threaded_save(state, path):
    """torch.save in a worker thread while the loop thread keeps ticking: (longest tick gap, total time)."""
    worker = threading.Thread(target=save_durably, args=(state, path))
    started = time.perf_counter()
    worker.start()
    last, stall = time.perf_counter(), 0.0
    while worker.is_alive():
        sum(range(200))  # the loop's own Python work between ticks
        now = time.perf_counter()
        stall, last = max(stall, now - last), now
    worker.join()
    return stall, time.perf_counter() - started


def measure(directory, mib, repetitions):
    source = os.path.join(directory, "state-%d.pth" % mib)
    target = os.path.join(directory, "torch-%d.pth" % mib)
    state = torch.load(source)
    out = {"save_sync_s": [], "thread_stall_s": [], "thread_total_s": [], "load_s": []}
    for round_ in range(repetitions + 1):
        sync = timed(lambda: save_durably(state, target))
        stall, total = threaded_save(state, target)
        uncached(source)
        load = timed(lambda: torch.load(source))
        if round_ > 0:
            out["save_sync_s"].append(sync)
            out["thread_stall_s"].append(stall)
            out["thread_total_s"].append(total)
            out["load_s"].append(load)
    os.remove(target)
    return out


def median(values):
    return statistics.median(values)


def rows(engine, torch_side):
    """(size, what, engine s, PyTorch s) for the table and the JSON."""
    for e in engine["sizes"]:
        t = torch_side[str(e["mib"])]
        mib = e["mib"]
        yield mib, "loop pause: engine snapshot / torch.save+fsync in the loop", median(e["pause_s"]), median(t["save_sync_s"])
        yield mib, "loop pause: engine snapshot / longest loop stall, torch.save in a thread", median(e["pause_s"]), median(t["thread_stall_s"])
        yield mib, "persist: engine writer / torch.save+fsync", median(e["persist_s"]), median(t["save_sync_s"])
        yield mib, "checkpoint total: engine copy+persist / torch.save in a thread", median(e["copy_s"]) + median(e["persist_s"]), median(t["thread_total_s"])
        yield mib, "restore: engine into the live state / torch.load", median(e["restore_s"]), median(t["load_s"])


def machine(engine):
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    return {"nproc": os.cpu_count(), "ram_gib": round(mem_kib / 2**20, 1), "kernel": platform.release(),
            "jdk": engine["jdk"], "torch": torch.__version__, "python": platform.python_version()}


def svg_panel(x0, title, ylabel, series, sizes, log_y):
    """One log-x line panel of 400x300 px at x0: [(label, values, colour, dashed)]; stdlib only, no plotting package."""
    import math
    w, h, left, top, bottom = 400, 300, 60, 30, 50
    values = [v for _, vs, _, _ in series for v in vs]
    fy = math.log10 if log_y else (lambda v: v)
    lo, hi = fy(min(values)), fy(max(values))
    lo, hi = (lo - 0.1, hi + 0.1) if log_y else (0.0, hi * 1.1)
    lx, hx = math.log10(sizes[0]), math.log10(sizes[-1])
    px = lambda m: x0 + left + (math.log10(m) - lx) / ((hx - lx) or 1) * (w - left - 20)
    py = lambda v: top + (hi - fy(v)) / ((hi - lo) or 1) * (h - top - bottom)
    out = ['<text x="%d" y="18" font-weight="bold">%s</text>' % (x0 + left, title),
           '<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>'
           % (x0 + left, top, w - left - 20, h - top - bottom),
           '<text x="%d" y="%d" transform="rotate(-90 %d %d)" text-anchor="middle">%s</text>'
           % (x0 + 14, top + 110, x0 + 14, top + 110, ylabel),
           '<text x="%d" y="%d" text-anchor="middle">state (MiB)</text>' % (x0 + w / 2 + 20, h - 8)]
    for m in sizes:
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>' % (px(m), h - bottom + 15, m))
    for v in (min(values), max(values)):
        out.append('<text x="%d" y="%.1f" text-anchor="end">%.3g</text>' % (x0 + left - 4, py(v) + 4, v))
    for i, (label, vs, colour, dashed) in enumerate(series):
        points = " ".join("%.1f,%.1f" % (px(m), py(v)) for m, v in zip(sizes, vs))
        out.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>'
                   % (points, colour, ' stroke-dasharray="6 4"' if dashed else ""))
        out.append('<text x="%d" y="%d" fill="%s" font-size="10">%s</text>' % (x0 + left + 6, top + 14 + 13 * i, colour, label))
    return out


def chart(engine, torch_side, path):
    """An SVG of the pause and the throughputs by state size (drawn here: CI and users need no plotting package)."""
    sizes = [e["mib"] for e in engine["sizes"]]
    t = [torch_side[str(m)] for m in sizes]
    es = engine["sizes"]
    pause = [("engine snapshot (hand-over; the copy runs beside the step)", [median(e["pause_s"]) * 1e3 for e in es], "#1f77b4", False),
             ("torch.save+fsync in the loop", [median(x["save_sync_s"]) * 1e3 for x in t], "#d62728", True),
             ("torch.save in a thread (longest stall)", [median(x["thread_stall_s"]) * 1e3 for x in t], "#ff7f0e", True)]
    speed = [("engine persist", [e["mib"] / median(e["persist_s"]) for e in es], "#1f77b4", False),
             ("torch.save+fsync", [m / median(x["save_sync_s"]) for m, x in zip(sizes, t)], "#d62728", True),
             ("engine restore", [e["mib"] / median(e["restore_s"]) for e in es], "#2ca02c", False),
             ("torch.load", [m / median(x["load_s"]) for m, x in zip(sizes, t)], "#9467bd", True)]
    body = svg_panel(0, "Pause per checkpoint", "loop pause (ms, log)", pause, sizes, True) \
        + svg_panel(420, "Throughput", "MiB/s", speed, sizes, False)
    with open(path, "w") as f:
        f.write('<svg xmlns="http://www.w3.org/2000/svg" width="820" height="300" font-family="sans-serif" '
                'font-size="12"><rect width="820" height="300" fill="white"/>\n%s\n</svg>\n' % "\n".join(body))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine", required=True, help="the engine's JSON (EngineComparison)")
    p.add_argument("--dir", required=True, help="where state-<MiB>.pth are; torch writes its files there too")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--out", required=True, help="JSON report")
    p.add_argument("--chart", help="SVG chart")
    args = p.parse_args()
    with open(args.engine) as f:
        engine = json.load(f)
    torch.set_num_threads(os.cpu_count())
    torch_side = {}
    for e in engine["sizes"]:
        torch_side[str(e["mib"])] = measure(args.dir, e["mib"], args.reps)
    table = [{"mib": m, "what": w, "engine_s": es, "pytorch_s": ts, "engine_over_pytorch": es / ts}
             for m, w, es, ts in rows(engine, torch_side)]
    print("%6s  %-76s %10s %10s %8s" % ("MiB", "measure (medians of %d)" % args.reps, "engine s", "PyTorch s", "ratio"))
    for r in table:
        print("%6d  %-76s %10.3f %10.3f %8.3f" % (r["mib"], r["what"], r["engine_s"], r["pytorch_s"], r["engine_over_pytorch"]))
    report = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(engine), "repetitions": args.reps,
              "table": table, "engine": engine["sizes"], "pytorch": torch_side}
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    if args.chart:
        chart(engine, torch_side, args.chart)


if __name__ == "__main__":
    main()
