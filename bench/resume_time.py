"""Time to resume as a user sees it: from a miner's start to its first trained step after a crash.

For each model preset, trains one step with `bin/neuron miner` to get a checkpoint, then, RUNS times each and
interleaved, with the checkpoint's pages dropped from the page cache first (a crash does not leave them warm):
  - the engine: `bin/neuron miner` on that checkpoint, killed (SIGKILL, as a crash) at its first trained step;
  - a Python miner on Debian's torch: `import torch`, torch.load of the same file, a LLaMA nn.Module with
    load_state_dict, torch.optim.AdamW and LambdaLR with load_state_dict, then one step on a batch of the same
    shape (forward, backward, clip_grad_norm_, optimizer and scheduler step).
Both run with the same intra-op thread count. The times are whole-process wall times taken by this script when
each line reaches it, split where the process says where it is: the engine's log (first line: JVM and engine up;
the loader's "resumed from checkpoint": file read and checked into the built state; first status line: the
step), the Python miner's markers. Prints medians with min-max and writes JSON. Run by bench/resume-time.
"""
import argparse
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

ENGINE_MARKS = [("engine up (JVM, LibTorch, options)", "Checkpointer - checkpoints:"),
                ("checkpoint read and checked into the built state", "CheckpointLoader - resumed from checkpoint"),
                ("first step", "status - step")]
PYTHON_MARKS = [("import torch", "imported"), ("torch.load", "loaded"),
                ("model, AdamW, LambdaLR load_state_dict", "state"), ("first step", "stepped")]


def uncached(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def timeline(command, marks, timeout):
    """Starts command; returns the seconds since its start at which each mark's text first appeared in its output."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                               start_new_session=True)
    seen, output = {}, []
    try:
        for line in process.stdout:
            output.append(line)
            for _, text in marks:
                if text not in seen and text in line:
                    seen[text] = time.monotonic() - started
            if len(seen) == len(marks):
                break
            if time.monotonic() - started > timeout:
                raise SystemExit("bench/resume-time: %s took over %d s; its output:\n%s"
                                 % (command[0], timeout, "".join(output[-20:])))
    finally:
        os.killpg(process.pid, signal.SIGKILL)   # a crash: nothing is flushed or persisted
        process.wait()
    if len(seen) < len(marks):
        raise SystemExit("bench/resume-time: %s ended before its first step; its output:\n%s"
                         % (command[0], "".join(output[-20:])))
    return [seen[text] for _, text in marks]


def summary(runs, marks):
    """Median (min-max) of each phase (the time between marks) and of the total."""
    phases = [[r[i] - (r[i - 1] if i else 0.0) for r in runs] for i in range(len(marks))]
    totals = [r[-1] for r in runs]
    out = [{"phase": name, "median_s": statistics.median(p), "min_s": min(p), "max_s": max(p)}
           for (name, _), p in zip(marks, phases)]
    out.append({"phase": "total", "median_s": statistics.median(totals), "min_s": min(totals), "max_s": max(totals)})
    return out


def measure(args, model):
    checkpoint = os.path.join(args.dir, "%s.pth" % model)
    pristine = checkpoint + ".pristine"
    engine = [os.path.join(args.root, "bin", "neuron"), "miner", "--model", model, "--device", "cpu",
              "--threads", str(args.threads), "--checkpoint_path", checkpoint]
    subprocess.run(engine + ["--max_steps", "1"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    shutil.copyfile(checkpoint, pristine)
    python = [sys.executable, "-u", os.path.abspath(__file__), "python-miner", checkpoint, str(args.threads)]
    runs = {"engine": [], "python": []}
    for run in range(args.runs):
        sides = [("engine", engine + ["--max_steps", "0"], ENGINE_MARKS), ("python", python, PYTHON_MARKS)]
        for name, command, marks in sides if run % 2 == 0 else reversed(sides):   # who goes first alternates
            for leftover in os.listdir(args.dir):
                if leftover.startswith(model + ".pth") and not leftover.endswith(".pristine"):
                    os.remove(os.path.join(args.dir, leftover))
            shutil.copyfile(pristine, checkpoint)
            os.sync()
            uncached(checkpoint)
            runs[name].append(timeline(command, marks, args.timeout))
            print("%s %s run %d: %s" % (model, name, run + 1, " ".join("%.2f" % t for t in runs[name][-1])),
                  file=sys.stderr)
    return {"engine": summary(runs["engine"], ENGINE_MARKS), "python": summary(runs["python"], PYTHON_MARKS),
            "raw": runs, "checkpoint_bytes": os.path.getsize(pristine)}


def python_miner(checkpoint, threads):
    """The Python miner's resume: prints a marker as each part is done."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    print("imported", flush=True)
    ck = torch.load(checkpoint)
    print("loaded", flush=True)
    cfg, training = ck["config"]["model"], ck["config"]["training"]
    hidden, heads, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["rms_norm_eps"]
    dim = hidden // heads

    class RMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(hidden))

        def forward(self, x):
            return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def linear(n_in, n_out):
        return nn.Linear(n_in, n_out, bias=False)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.q_proj, self.k_proj = linear(hidden, hidden), linear(hidden, hidden)
            self.v_proj, self.o_proj = linear(hidden, hidden), linear(hidden, hidden)

        def forward(self, x, cos, sin):
            batch, seq, _ = x.shape
            split = lambda t: t.view(batch, seq, heads, dim).transpose(1, 2)
            rotate = lambda t: torch.cat((-t[..., dim // 2:], t[..., :dim // 2]), -1)
            q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
            q, k = q * cos + rotate(q) * sin, k * cos + rotate(k) * sin
            mask = torch.full((seq, seq), float("-inf")).triu(1)
            weights = ((q @ k.transpose(-1, -2)) / math.sqrt(dim) + mask).softmax(-1)
            return self.o_proj((weights @ v).transpose(1, 2).reshape(batch, seq, hidden))

    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            inner = cfg["intermediate_size"]
            self.gate_proj, self.up_proj, self.down_proj = linear(hidden, inner), linear(hidden, inner), linear(inner, hidden)

        def forward(self, x):
            return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.self_attn, self.mlp = Attention(), Mlp()
            self.input_layernorm, self.post_attention_layernorm = RMSNorm(), RMSNorm()

        def forward(self, h, cos, sin):
            h = h + self.self_attn(self.input_layernorm(h), cos, sin)
            return h + self.mlp(self.post_attention_layernorm(h))

    class Body(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed_tokens = nn.Embedding(cfg["vocab_size"], hidden)
            self.layers = nn.ModuleList(Layer() for _ in range(cfg["num_hidden_layers"]))
            self.norm = RMSNorm()

    class Llama(nn.Module):
        def __init__(self):
            super().__init__()
            self.model, self.lm_head = Body(), linear(hidden, cfg["vocab_size"])

        def forward(self, tokens):
            seq = tokens.shape[1]
            inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, dim, 2).float() / dim))
            angles = torch.outer(torch.arange(seq).float(), inv_freq)
            angles = torch.cat((angles, angles), -1)
            cos, sin = angles.cos(), angles.sin()
            h = self.model.embed_tokens(tokens)
            for layer in self.model.layers:
                h = layer(h, cos, sin)
            return self.lm_head(self.model.norm(h))

    model = Llama()
    model.load_state_dict(ck["model_state_dict"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=training["lr"])
    warmup, decay, floor = training["warmup_steps"], training["decay_steps"], training["min_lr_ratio"]

    def factor(step):
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / decay)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    optimizer.load_state_dict(ck["optimizer_state_dict"])
    scheduler.load_state_dict(ck["scheduler_state_dict"])
    print("state", flush=True)
    generator = torch.Generator().manual_seed(ck["global_step"])
    batch = torch.randint(cfg["vocab_size"], (training["batch_size"], cfg["max_position_embeddings"] + 1),
                          generator=generator)
    logits = model(batch[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, cfg["vocab_size"]), batch[:, 1:].reshape(-1))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), training["grad_clip"])
    optimizer.step()
    scheduler.step()
    print("stepped loss %.4f" % loss.item(), flush=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "python-miner":
        python_miner(sys.argv[2], int(sys.argv[3]))
        return
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", required=True, help="the engine's checkout (bin/neuron)")
    p.add_argument("--dir", required=True, help="scratch directory on the disk to measure")
    p.add_argument("--models", default="tiny,small")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="intra-op threads of both (the engine's default: 1)")
    p.add_argument("--timeout", type=int, default=900, help="seconds one resume may take")
    p.add_argument("--out", required=True, help="JSON report")
    args = p.parse_args()
    load_before = "%.2f %.2f %.2f" % os.getloadavg()
    report = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "threads": args.threads, "runs": args.runs,
              "models": {m: measure(args, m) for m in args.models.split(",")}}
    report["load_average"] = {"before": load_before, "after": "%.2f %.2f %.2f" % os.getloadavg()}
    print("load average before %s, after %s; %d runs each, interleaved; %d intra-op thread(s)"
          % (load_before, report["load_average"]["after"], args.runs, args.threads))
    print("%-6s %-7s %-52s %9s  %s" % ("model", "side", "phase", "median s", "min-max"))
    for model, m in report["models"].items():
        for side in ("engine", "python"):
            for r in m[side]:
                print("%-6s %-7s %-52s %9.2f  %.2f-%.2f" % (model, side, r["phase"], r["median_s"], r["min_s"], r["max_s"]))
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
