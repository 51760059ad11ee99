"""PyTorch's half of bench/compare, and the report.

Loads each state the engine wrote (state-<MiB>.pth, so both sides save the identical state dict), measures with
Debian's torch: torch.save + fsync on the calling thread; torch.save + fsync in a thread as the reference system
does it (asyncio.to_thread), with the loop's longest stall while it runs and the total; torch.load of the same
file, from disk as a resume reads it (its pages dropped from the page cache first, as the engine's writer and
restore leave them). One unmeasured round first, then medians of the repetitions. Prints one table (engine / PyTorch) and writes
JSON and a chart. Run by bench/compare with /usr/bin/python3.
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


def chart(engine, torch_side, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sizes = [e["mib"] for e in engine["sizes"]]
    t = [torch_side[str(m)] for m in sizes]
    mib_s = lambda m, s: m / s
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6), dpi=80)
    left.plot(sizes, [median(e["pause_s"]) * 1e3 for e in engine["sizes"]], "o-", label="engine snapshot (hand-over; the copy runs beside the step)")
    left.plot(sizes, [median(x["save_sync_s"]) * 1e3 for x in t], "s--", label="torch.save+fsync in the loop")
    left.plot(sizes, [median(x["thread_stall_s"]) * 1e3 for x in t], "^:", label="torch.save in a thread (stall)")
    left.set(xscale="log", yscale="log", xlabel="state (MiB)", ylabel="loop pause (ms)", title="Pause per checkpoint")
    right.plot(sizes, [mib_s(e["mib"], median(e["persist_s"])) for e in engine["sizes"]], "o-", label="engine persist")
    right.plot(sizes, [mib_s(m, median(x["save_sync_s"])) for m, x in zip(sizes, t)], "s--", label="torch.save+fsync")
    right.plot(sizes, [mib_s(e["mib"], median(e["restore_s"])) for e in engine["sizes"]], "o-", label="engine restore")
    right.plot(sizes, [mib_s(m, median(x["load_s"])) for m, x in zip(sizes, t)], "s--", label="torch.load")
    right.set(xscale="log", xlabel="state (MiB)", ylabel="MiB/s", title="Throughput")
    for ax in (left, right):
        ax.set_xticks(sizes, [str(s) for s in sizes])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine", required=True, help="the engine's JSON (EngineComparison)")
    p.add_argument("--dir", required=True, help="where state-<MiB>.pth are; torch writes its files there too")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--out", required=True, help="JSON report")
    p.add_argument("--chart", help="PNG chart (needs python3-matplotlib)")
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
        try:
            chart(engine, torch_side, args.chart)
        except ImportError:
            print("no chart: python3-matplotlib is not installed")


if __name__ == "__main__":
    main()
