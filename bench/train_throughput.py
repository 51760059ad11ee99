"""PyTorch's side of bench/train-throughput: the engine's model (the test suite's reference LLaMA forward in
float32, explicit causal attention), batch, AdamW (the engine's betas, eps, weight decay), clip_grad_norm_ on one
thread; prints one JSON line with the median tokens/s, and the best rate of torch's own linear of the MLP's shape.

Usage: train_throughput.py MODEL STEPS PRECISION REPS (precision bf16: torch.autocast("cpu", torch.bfloat16)).
"""
import ctypes
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(root, "java/src/test/resources/neuron/engine/miner"))
from train_reference import llama_logits  # noqa: E402

PRESETS = {  # ModelConfig.preset: vocab, hidden, layers, heads, intermediate, seq_len
    "tiny": (256, 64, 4, 4, 192, 64),
    "small": (256, 512, 8, 8, 1376, 256),
}


def blas():
    """The BLAS this process loaded: OpenBLAS's version and the core its kernels were picked for, or the file."""
    path = next((line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.split()[-1]), "no BLAS")
    try:
        lib = ctypes.CDLL(path)
        lib.openblas_get_config.restype = lib.openblas_get_corename.restype = ctypes.c_char_p
        return "%s, core %s" % (lib.openblas_get_config().decode(), lib.openblas_get_corename().decode())
    except (OSError, AttributeError):
        return path


def main(model, steps, precision, reps):
    torch.set_num_threads(1)
    vocab, hidden, layers, heads, inter, seq = PRESETS[model]
    batch = 8
    cfg = {"hidden_size": hidden, "num_attention_heads": heads, "num_hidden_layers": layers, "rms_norm_eps": 1e-6,
           "rope_theta": 10000.0}
    shapes = [("model.embed_tokens.weight", (vocab, hidden))]
    for i in range(layers):
        pre = "model.layers.%d." % i
        shapes += [(pre + "self_attn.%s_proj.weight" % p, (hidden, hidden)) for p in "qkvo"]
        shapes += [(pre + "mlp.gate_proj.weight", (inter, hidden)), (pre + "mlp.up_proj.weight", (inter, hidden)),
                   (pre + "mlp.down_proj.weight", (hidden, inter)), (pre + "input_layernorm.weight", (hidden,)),
                   (pre + "post_attention_layernorm.weight", (hidden,))]
    shapes += [("model.norm.weight", (hidden,)), ("lm_head.weight", (vocab, hidden))]
    params = {n: (torch.ones(s) if n.endswith("norm.weight") else torch.randn(s) * 0.02).requires_grad_(True)
              for n, s in shapes}
    optimizer = torch.optim.AdamW(list(params.values()), lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    times = []
    for step in range(steps + 1):
        tokens = torch.randint(vocab, (batch, seq + 1))
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            logits = llama_logits(params, cfg, tokens[:, :-1], torch.float32)
        loss = F.cross_entropy(logits.float().reshape(-1, vocab), tokens[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
        optimizer.step()
        if step > 0:  # the first is a warm-up
            times.append(time.perf_counter() - start)
    times.sort()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    x = torch.randn(batch * seq, hidden, dtype=dtype)
    w = torch.randn(inter, hidden, dtype=dtype)
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        F.linear(x, w)
        best = min(best, time.perf_counter() - start)
    print(json.dumps({"tokens_per_s": batch * seq / times[len(times) // 2],
                      "linear_gflops_best": 2.0 * batch * seq * hidden * inter / best / 1e9, "blas": blas()}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
