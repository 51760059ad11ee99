#!/usr/bin/env python3
"""PyTorch's side of the GPU staging figures: the same bytes as neuron_cuda_test, copied device -> host the ways
PyTorch offers (pageable, tensor.to('cpu', non_blocking=True) into pinned memory, copy_ into a reused pinned
buffer) and written with torch.save (from host memory, and straight from the device as a training script does).

    bench/gpu_copy.py [--sizes 4GiB,14.5GB] [--dir DIR] [--json FILE]

Without a CUDA device only the torch.save of host memory is measured (the CPU figure). Times are single runs
after one warm-up of the same call, medians of --reps where cheap; every file is fsynced and deleted.
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

import torch

# A host save slower than this leaves out the two device saves, to keep the run within minutes.
SLOW_SAVE_S = 60
UNITS = {"GiB": 1 << 30, "MiB": 1 << 20, "GB": 10**9, "MB": 10**6}


def parse_size(text):
    for unit, factor in UNITS.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor) // 8 * 8
    return int(text) // 8 * 8


def timed(fn, sync):
    """Seconds fn takes, with the device synchronised before and after when sync is set."""
    if sync:
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    if sync:
        torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def gbps(n, seconds):
    return round(n / seconds / 1e9, 3)


def save_seconds(obj, directory):
    """torch.save into a new file in directory, flushed and fsynced; the file is removed."""
    fd, path = tempfile.mkstemp(prefix="neuron-gpu-copy-", suffix=".pth", dir=directory)
    try:
        t0 = time.perf_counter()
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        return time.perf_counter() - t0
    finally:
        os.unlink(path)


def save_config():
    """torch.save's settings (PyTorch >= 2.6), or None."""
    try:
        from torch.utils.serialization import config
    except ImportError:
        return None
    return config.save


def measure(n, directory, reps, cuda):
    row = {"bytes": n}
    host = torch.empty(n, dtype=torch.uint8)
    host.fill_(1)  # touched: the pages exist before anything is timed
    free_disk = shutil.disk_usage(directory).free
    if free_disk < 2 * n:
        row["save_skipped"] = f"{directory} has {free_disk} bytes free, needs {2 * n}"
    else:
        s = save_seconds({"t": host}, directory)
        row["torch_save_host_s"] = round(s, 3)
        row["torch_save_host_gbps"] = gbps(n, s)
    if not cuda:
        return row

    dev = torch.empty(n, dtype=torch.uint8, device="cuda")
    dev.random_(0, 256)
    torch.cuda.synchronize()

    # pageable: a fresh tensor each time (first touch included), and copy_ into the touched host tensor
    s, out = timed(lambda: dev.to("cpu"), True)
    row["to_cpu_pageable_first_s"] = round(s, 4)
    del out
    times = [timed(lambda: host.copy_(dev), True)[0] for _ in range(reps)]
    row["copy_into_pageable_gbps"] = gbps(n, statistics.median(times))
    assert torch.equal(host[:4096], dev[:4096].cpu())

    # tensor.to('cpu', non_blocking=True): PyTorch allocates the destination pinned (its caching host
    # allocator); the first call pays cudaHostAlloc, later calls of the same size reuse the block
    s, out = timed(lambda: dev.to("cpu", non_blocking=True), True)
    row["to_cpu_non_blocking_first_s"] = round(s, 4)
    row["to_cpu_non_blocking_is_pinned"] = bool(out.is_pinned())
    del out
    times = []
    for _ in range(reps):
        s, out = timed(lambda: dev.to("cpu", non_blocking=True), True)
        times.append(s)
        del out
    row["to_cpu_non_blocking_gbps"] = gbps(n, statistics.median(times))
    host_empty_cache = getattr(torch._C, "_host_emptyCache", None)
    if host_empty_cache:
        host_empty_cache()  # give the cached pinned block back before pinning another of the same size

    # a pinned buffer allocated once and reused, as the engine's registered staging is
    s, pinned = timed(lambda: torch.empty(n, dtype=torch.uint8, pin_memory=True), False)
    row["pin_alloc_s"] = round(s, 3)
    enqueue = []
    times = []
    for _ in range(reps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        pinned.copy_(dev, non_blocking=True)
        enqueue.append(time.perf_counter() - t0)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    row["copy_into_pinned_gbps"] = gbps(n, statistics.median(times))
    row["copy_into_pinned_enqueue_s"] = round(statistics.median(enqueue), 6)
    assert torch.equal(pinned[:4096].cuda(), dev[:4096])
    del pinned

    # torch.save of the device tensor: what a training script's checkpoint costs end to end
    if "save_skipped" not in row and row["torch_save_host_s"] > SLOW_SAVE_S:
        row["save_skipped"] = f"the disk is slow ({row['torch_save_host_s']} s for the host save)"
    if "save_skipped" not in row:
        s = save_seconds({"t": dev}, directory)
        row["torch_save_cuda_s"] = round(s, 3)
        row["torch_save_cuda_gbps"] = gbps(n, s)
        config = save_config()
        if config is not None and hasattr(config, "use_pinned_memory_for_d2h"):
            config.use_pinned_memory_for_d2h = True
            try:
                s = save_seconds({"t": dev}, directory)
            finally:
                config.use_pinned_memory_for_d2h = False
            row["torch_save_cuda_pinned_d2h_s"] = round(s, 3)
            row["torch_save_cuda_pinned_d2h_gbps"] = gbps(n, s)
    del dev
    torch.cuda.empty_cache()
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="4GiB")
    ap.add_argument("--dir", default=tempfile.gettempdir(), help="where torch.save writes (a real disk)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json")
    args = ap.parse_args()

    cuda = torch.cuda.is_available()
    result = {"torch": torch.__version__, "cuda_runtime": torch.version.cuda, "dir": args.dir, "rows": []}
    if cuda:
        p = torch.cuda.get_device_properties(0)
        result["device"] = p.name
        result["device_memory_bytes"] = p.total_memory
    else:
        print("gpu_copy: no CUDA device; measuring torch.save of host memory only", file=sys.stderr)
    for size in args.sizes.split(","):
        n = parse_size(size)
        if cuda and n > torch.cuda.mem_get_info()[0] * 0.8:
            result["rows"].append({"bytes": n, "skipped": "does not fit on the device"})
            continue
        row = measure(n, args.dir, args.reps, cuda)
        print(json.dumps(row), flush=True)
        result["rows"].append(row)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
