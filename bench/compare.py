"""bench/compare's driver, PyTorch's half, and the report.

Starts the engine's half (EngineComparison) and, for each state size, runs the repetitions of both sides
interleaved, one round at a time (the side that goes first alternates), so a disk or a neighbour that slows down
for a minute slows both. Each round measures, on the same file and disk:
  - the raw disk: a cold sequential read of state-<MiB>.pth (its pages dropped first, large reads into one reused
    buffer; buffered and O_DIRECT, the faster counts) and a sequential write of the same size plus fsync;
  - the engine: snapshot pause, persist (temporary file, fsync, rename, directory fsync), restore into live tensors;
  - Debian's torch: torch.save + fsync on the calling thread; torch.save + fsync in a thread as the reference
    system does it (the loop's longest stall and the total); torch.load of state-<MiB>.pth with its pages dropped.
One unmeasured round first. Each ratio is taken within a round and reported as the median over rounds with its
spread (min-max); the load average is printed before and after. Writes JSON and an SVG chart. Run by bench/compare
with /usr/bin/python3.
"""
import argparse
import json
import mmap
import os
import platform
import statistics
import subprocess
import threading
import time

import torch

RAW_CHUNK = 16 << 20


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


def raw_read(path, buffer, direct):
    """The disk's cold sequential read of the whole file: large reads into one reused, page-aligned buffer."""
    if not direct:
        uncached(path)
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECT if direct else 0))
    try:
        started, offset = time.perf_counter(), 0
        while True:
            n = os.preadv(fd, [buffer], offset)
            offset += n
            if n < len(buffer):
                break
        return time.perf_counter() - started
    finally:
        os.close(fd)


def raw_write(path, buffer, nbytes):
    """The disk's sequential write of nbytes plus fsync (the bytes of a reused buffer, as dd conv=fsync does)."""
    started = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view, written = memoryview(buffer), 0
        while written < nbytes:
            written += os.write(fd, view[:min(len(buffer), nbytes - written)])
        os.fsync(fd)
    finally:
        os.close(fd)
    took = time.perf_counter() - started
    os.remove(path)
    return took


class Engine:
    """The engine's half, one command and one JSON answer per line."""

    def __init__(self, command):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.jdk = self.expect("jdk")

    def expect(self, word):
        line = self.process.stdout.readline().strip()
        if not line.startswith(word + " "):
            raise SystemExit("bench/compare: the engine's half said %r, expected %r" % (line, word))
        return line[len(word) + 1:]

    def ask(self, command):
        self.process.stdin.write(command + "\n")
        if command == "next":
            return None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit("bench/compare: the engine's half ended (see its output above)")
        return json.loads(line)

    def close(self):
        self.process.stdin.close()
        if self.process.wait() != 0:
            raise SystemExit("bench/compare: the engine's half failed with exit code %d" % self.process.returncode)


def measure(engine, directory, mib, repetitions):
    engine.expect("ready")
    source = os.path.join(directory, "state-%d.pth" % mib)
    target = os.path.join(directory, "torch-%d.pth" % mib)
    scratch = os.path.join(directory, "raw-%d.bin" % mib)
    nbytes = os.path.getsize(source)
    buffer = mmap.mmap(-1, RAW_CHUNK)   # page aligned, as O_DIRECT needs
    buffer.write(b"\x5a" * RAW_CHUNK)
    state = torch.load(source)
    keys = ("raw_read_s", "raw_read_buffered_s", "raw_read_direct_s", "raw_write_s", "pause_s", "copy_s",
            "persist_s", "restore_s", "save_sync_s", "thread_stall_s", "thread_total_s", "load_s")
    out = {k: [] for k in keys}

    def engine_side(round_):
        got = engine.ask("persist")
        got.update(engine.ask("restore"))
        return got

    def torch_side(round_):
        got = {"save_sync_s": timed(lambda: save_durably(state, target))}
        got["thread_stall_s"], got["thread_total_s"] = threaded_save(state, target)
        uncached(source)
        got["load_s"] = timed(lambda: torch.load(source))
        return got

    def disk_side(round_):
        buffered, direct = raw_read(source, buffer, False), raw_read(source, buffer, True)
        return {"raw_read_buffered_s": buffered, "raw_read_direct_s": direct, "raw_read_s": min(buffered, direct),
                "raw_write_s": raw_write(scratch, buffer, nbytes)}

    sides = [engine_side, torch_side, disk_side]
    for round_ in range(repetitions + 1):
        got = {}
        for side in sides[round_ % 3:] + sides[:round_ % 3]:   # who goes first rotates
            got.update(side(round_))
        if round_ > 0:
            for k in keys:
                out[k].append(got[k])
    engine.ask("next")
    os.remove(target)
    return out


def median(values):
    return statistics.median(values)


def spread(values):
    return min(values), max(values)


# (what, engine key or keys summed, reference key, reference's name): engine ÷ reference, round by round
ROWS = [
    ("loop pause: engine snapshot / torch.save+fsync in the loop", ("pause_s",), "save_sync_s"),
    ("loop pause: engine snapshot / longest loop stall, torch.save in a thread", ("pause_s",), "thread_stall_s"),
    ("persist: engine writer / torch.save+fsync", ("persist_s",), "save_sync_s"),
    ("persist: engine writer / raw write+fsync of the same size", ("persist_s",), "raw_write_s"),
    ("checkpoint total: engine copy+persist / torch.save in a thread", ("copy_s", "persist_s"), "thread_total_s"),
    ("restore: engine into the live state / cold torch.load", ("restore_s",), "load_s"),
    ("restore: engine into the live state / raw cold read", ("restore_s",), "raw_read_s"),
    ("torch.load / raw cold read", ("load_s",), "raw_read_s"),
]


def rows(sizes):
    """Per size and row: the medians of both sides, and the median and spread of the per-round ratios."""
    for mib, m in sizes.items():
        for what, engine_keys, reference in ROWS:
            left = [sum(vs) for vs in zip(*(m[k] for k in engine_keys))]
            ratios = [a / b for a, b in zip(left, m[reference])]
            yield {"mib": int(mib), "what": what, "engine_s": median(left), "reference_s": median(m[reference]),
                   "ratio": median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios)}


def machine(jdk):
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    return {"nproc": os.cpu_count(), "ram_gib": round(mem_kib / 2**20, 1), "kernel": platform.release(),
            "jdk": jdk, "torch": torch.__version__, "python": platform.python_version()}


def load_average():
    return "%.2f %.2f %.2f" % os.getloadavg()


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


def chart(sizes, path):
    """An SVG of the pause and the throughputs by state size (drawn here: CI and users need no plotting package)."""
    mibs = sorted(int(m) for m in sizes)
    ms = [sizes[str(m)] for m in mibs]
    pause = [("engine snapshot (hand-over; the copy runs beside the step)", [median(m["pause_s"]) * 1e3 for m in ms], "#1f77b4", False),
             ("torch.save+fsync in the loop", [median(m["save_sync_s"]) * 1e3 for m in ms], "#d62728", True),
             ("torch.save in a thread (longest stall)", [median(m["thread_stall_s"]) * 1e3 for m in ms], "#ff7f0e", True)]
    speed = [("engine persist", [mib / median(m["persist_s"]) for mib, m in zip(mibs, ms)], "#1f77b4", False),
             ("torch.save+fsync", [mib / median(m["save_sync_s"]) for mib, m in zip(mibs, ms)], "#d62728", True),
             ("raw write+fsync", [mib / median(m["raw_write_s"]) for mib, m in zip(mibs, ms)], "#7f7f7f", True),
             ("engine restore", [mib / median(m["restore_s"]) for mib, m in zip(mibs, ms)], "#2ca02c", False),
             ("torch.load", [mib / median(m["load_s"]) for mib, m in zip(mibs, ms)], "#9467bd", True),
             ("raw cold read", [mib / median(m["raw_read_s"]) for mib, m in zip(mibs, ms)], "#000000", True)]
    body = svg_panel(0, "Pause per checkpoint", "loop pause (ms, log)", pause, mibs, True) \
        + svg_panel(420, "Throughput", "MiB/s", speed, mibs, False)
    with open(path, "w") as f:
        f.write('<svg xmlns="http://www.w3.org/2000/svg" width="820" height="300" font-family="sans-serif" '
                'font-size="12"><rect width="820" height="300" fill="white"/>\n%s\n</svg>\n' % "\n".join(body))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", required=True, help="scratch directory on the disk to measure")
    p.add_argument("--sizes", default="64,256,1024", help="state sizes in MiB, comma-separated")
    p.add_argument("--reps", type=int, default=7, help="measured rounds per size (one unmeasured round first)")
    p.add_argument("--out", required=True, help="JSON report")
    p.add_argument("--chart", help="SVG chart")
    p.add_argument("engine", nargs=argparse.REMAINDER, help="the command that starts the engine's half")
    args = p.parse_args()
    torch.set_num_threads(os.cpu_count())
    load_before = load_average()
    command = args.engine[1:] if args.engine[:1] == ["--"] else args.engine
    engine = Engine(command + [args.dir, args.sizes])
    sizes = {}
    for mib in args.sizes.split(","):
        sizes[mib.strip()] = measure(engine, args.dir, int(mib), args.reps)
    engine.close()
    load_after = load_average()
    table = list(rows(sizes))
    print("load average before %s, after %s; %d rounds per size, engine and PyTorch interleaved"
          % (load_before, load_after, args.reps))
    print("%6s  %-74s %9s %9s %7s  %s" % ("MiB", "measure: engine / reference (ratio < 1: engine faster)",
                                          "engine s", "ref s", "ratio", "min-max"))
    for r in table:
        print("%6d  %-74s %9.3f %9.3f %7.3f  %.3f-%.3f" % (r["mib"], r["what"], r["engine_s"], r["reference_s"],
                                                          r["ratio"], r["ratio_min"], r["ratio_max"]))
    report = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(engine.jdk), "repetitions": args.reps,
              "load_average": {"before": load_before, "after": load_after}, "table": table, "measurements": sizes}
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    if args.chart:
        chart(sizes, args.chart)


if __name__ == "__main__":
    main()
