"""Independent PyTorch reference for the engine's training core (tests only).

Usage: train_reference.py forward|adamw DIR. DIR holds NAME.json trees written by PythonExchange.java plus raw
little-endian tensor files. Prints one JSON line with the measured differences; the Java test judges them.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

DTYPES = {"Float": torch.float32, "Long": torch.int64}


def decode(node, base):
    if isinstance(node, list):
        return [decode(item, base) for item in node]
    if isinstance(node, dict):
        if "tensor" in node:
            with open(os.path.join(base, node["tensor"]), "rb") as f:
                raw = bytearray(f.read())
            flat = torch.frombuffer(raw, dtype=DTYPES[node["dtype"]]) if raw else torch.empty(0, dtype=DTYPES[node["dtype"]])
            return flat.reshape(node["shape"]).clone()
        if "tuple" in node:
            return tuple(decode(node["tuple"], base))
        if "dict" in node or "ordered_dict" in node:
            pairs = node.get("dict", node.get("ordered_dict"))
            return {key: decode(value, base) for key, value in pairs}
    return node


def load(base, name):
    with open(os.path.join(base, name + ".json")) as f:
        return decode(json.load(f), base)


def rms_norm(x, weight, eps):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rope_frequencies(cfg, dim):
    """HF's default rotary frequencies, or LLaMA-3's rescaled ones (_compute_llama3_parameters) in float64."""
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, dim, 2, dtype=torch.int64).double() / dim))
    scaling = cfg.get("rope_scaling")
    if scaling is None:
        return inv_freq
    assert scaling["rope_type"] == "llama3", scaling
    factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
    old = scaling["original_max_position_embeddings"]
    wavelen = 2 * math.pi / inv_freq
    scaled = torch.where(wavelen > old / low, inv_freq / factor, inv_freq)
    smooth = (old / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = ~(wavelen < old / high) * ~(wavelen > old / low)
    return torch.where(medium, smoothed, scaled)


def llama_logits(p, cfg, tokens, dtype=torch.float64):
    """HF LlamaForCausalLM's forward in float64 (or dtype), with explicit causal softmax attention; grouped
    key/value heads repeated (repeat_interleave) to the query heads, the embedding as the head when
    tie_word_embeddings."""
    p = {k: v.to(dtype) for k, v in p.items()}
    batch, seq = tokens.shape
    hidden, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    kv_heads = cfg.get("num_key_value_heads", heads)
    dim = hidden // heads
    eps = cfg["rms_norm_eps"]
    freqs = torch.outer(torch.arange(seq).double(), rope_frequencies(cfg, dim))
    angles = torch.cat((freqs, freqs), -1)
    cos, sin = angles.cos().to(dtype), angles.sin().to(dtype)

    def rotate_half(x):
        return torch.cat((-x[..., dim // 2:], x[..., : dim // 2]), -1)

    def split(x, n):
        return x.view(batch, seq, n, dim).transpose(1, 2)

    mask = torch.full((seq, seq), float("-inf"), dtype=dtype).triu(1)
    h = p["model.embed_tokens.weight"][tokens]
    for i in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{i}."
        x = rms_norm(h, p[pre + "input_layernorm.weight"], eps)
        q = split(x @ p[pre + "self_attn.q_proj.weight"].T, heads)
        k = split(x @ p[pre + "self_attn.k_proj.weight"].T, kv_heads).repeat_interleave(heads // kv_heads, 1)
        v = split(x @ p[pre + "self_attn.v_proj.weight"].T, kv_heads).repeat_interleave(heads // kv_heads, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        weights = ((q @ k.transpose(-1, -2)) / math.sqrt(dim) + mask).softmax(-1)
        attended = (weights @ v).transpose(1, 2).reshape(batch, seq, hidden)
        h = h + attended @ p[pre + "self_attn.o_proj.weight"].T
        x = rms_norm(h, p[pre + "post_attention_layernorm.weight"], eps)
        gated = F.silu(x @ p[pre + "mlp.gate_proj.weight"].T) * (x @ p[pre + "mlp.up_proj.weight"].T)
        h = h + gated @ p[pre + "mlp.down_proj.weight"].T
    head = p["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else p["lm_head.weight"]
    return rms_norm(h, p["model.norm.weight"], eps) @ head.T


def forward(base):
    case = load(base, "forward")
    expected = llama_logits(case["params"], case["config"], case["tokens"])
    diff = (expected - case["logits"].double()).abs().max().item()
    return {"max_abs_diff": diff, "max_abs_logit": expected.abs().max().item()}


def max_rel_diff(a, b):
    return ((a.double() - b.double()).abs().max() / b.double().abs().max().clamp_min(1e-30)).item()


def lr_factor(schedule):
    """The engine's warmup-cosine schedule as a LambdaLR factor."""
    def factor(epoch):
        if epoch < schedule["warmup_steps"]:
            return (epoch + 1) / schedule["warmup_steps"]
        progress = min(1.0, (epoch - schedule["warmup_steps"]) / schedule["decay_steps"])
        ratio = schedule["min_lr_ratio"]
        return ratio + (1 - ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    return factor


def adamw(base):
    """One step of torch.optim.AdamW + clip_grad_norm_ + LambdaLR, loaded from the engine's state_dicts."""
    case = load(base, "adamw")
    before, after, schedule = case["before"], case["after"], case["schedule"]
    names = list(before["params"].keys())
    params = [before["params"][n].clone().requires_grad_(True) for n in names]
    factor = lr_factor(schedule)

    optimizer = torch.optim.AdamW(params, lr=schedule["lr"])
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    optimizer.load_state_dict(before["optimizer"])
    scheduler.load_state_dict(before["scheduler"])
    for p, n in zip(params, names):
        p.grad = case["grads"][n].clone()
    torch.nn.utils.clip_grad_norm_(params, case["max_norm"])
    clipped = max(max_rel_diff(p.grad, case["clipped"][n]) for p, n in zip(params, names))
    optimizer.step()
    scheduler.step()
    state = optimizer.state_dict()["state"]
    expected_state = after["optimizer"]["state"]
    result = {
        "clipped_grads": clipped,
        "params": max(max_rel_diff(p.detach(), after["params"][n]) for p, n in zip(params, names)),
        "exp_avg": max(max_rel_diff(state[i]["exp_avg"], expected_state[i]["exp_avg"]) for i in state),
        "exp_avg_sq": max(max_rel_diff(state[i]["exp_avg_sq"], expected_state[i]["exp_avg_sq"]) for i in state),
        "steps_equal": all(torch.equal(state[i]["step"], expected_state[i]["step"]) for i in state),
        "lr": optimizer.param_groups[0]["lr"],
        "expected_lr": after["optimizer"]["param_groups"][0]["lr"],
    }
    sched = scheduler.state_dict()
    for key in ("last_epoch", "_step_count", "_last_lr"):
        result["scheduler_" + key] = [sched[key], after["scheduler"][key]]
    return result


def train(base):
    """Trains the engine's initial float32 weights on the engine's batches with torch.optim.AdamW, clip_grad_norm_
    and LambdaLR, the forward in float32 or under torch.autocast("cpu", torch.bfloat16) (float32 master weights
    and moments, as with a GPU's autocast); returns the per-step losses."""
    case = load(base, "train")
    cfg, schedule = case["config"], case["schedule"]
    params = {n: t.clone().requires_grad_(True) for n, t in case["params"].items()}
    optimizer = torch.optim.AdamW(list(params.values()), lr=schedule["lr"], betas=(schedule["beta1"], schedule["beta2"]),
                                  eps=schedule["eps"], weight_decay=schedule["weight_decay"])
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(schedule))
    losses = []
    for batch in case["batches"]:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=case["bf16"]):
            logits = llama_logits(params, cfg, batch[:, :-1], torch.float32)
        loss = F.cross_entropy(logits.float().reshape(-1, cfg["vocab_size"]), batch[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), schedule["grad_clip"])
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return {"losses": losses}


if __name__ == "__main__":
    mode, directory = sys.argv[1], sys.argv[2]
    print(json.dumps({"forward": forward, "adamw": adamw, "train": train}[mode](directory)))
