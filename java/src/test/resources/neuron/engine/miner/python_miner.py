"""The Python miner's side of the engine's tests (Debian's python3-torch; no transformers needed).

  python_miner.py save DIR STEPS VARIANT...
      For each VARIANT, trains a LLaMA with Hugging Face's parameter names (vocab 256, hidden 64, 2 layers,
      4 heads, MLP 128) for STEPS steps with torch.optim.AdamW and LambdaLR, then saves to DIR/VARIANT.pth what
      the reference miner's save_checkpoint saves: {global_step, model_state_dict, optimizer_state_dict,
      scheduler_state_dict}. Prints {VARIANT: {loss, lr}}. VARIANT "miner" is that; the others change it (and
      train 2 steps, except rotary and weights_only):
        gqa           two key/value heads (k_proj, v_proj of 32 rows): grouped-query attention
        tied          tie_word_embeddings: one parameter, saved under both embed_tokens and lm_head
        bias          a q_proj bias in layer 0
        rotary        hidden 48 with 3 heads, and the rotary_emb.inv_freq buffers older transformers saved
        sgd           torch.optim.SGD with momentum instead of AdamW
        weights_only  only global_step and model_state_dict
  python_miner.py continue CHECKPOINT TOKENS
      Loads an engine checkpoint into torch.optim.AdamW and LambdaLR as a Python miner would, computes the loss of
      the batch in the file TOKENS (JSON rows of token ids) and takes one optimizer step; prints one JSON line.
  python_miner.py safetensors DIR CHECKPOINT
      Reads DIR/model.safetensors with the standard library and torch.frombuffer, compares every tensor with
      CHECKPOINT's model_state_dict and DIR/config.json with the shapes; prints one JSON line.
"""
import collections
import json
import os
import struct
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_reference import llama_logits  # noqa: E402


def load(path):
    try:
        return torch.load(path, weights_only=True)
    except Exception as e:  # torch 1.x's weights_only unpickler lacks BINFLOAT (opcode 71); torch 2 has no fallback
        if not torch.__version__.startswith("1.") or "Unsupported operand 71" not in str(e):
            raise
        return torch.load(path, weights_only=False)


def llama(variant):
    hidden, heads, layers, mlp, vocab = (48, 3, 2, 128, 256) if variant == "rotary" else (64, 4, 2, 128, 256)
    kv = 32 if variant == "gqa" else hidden
    shapes = [("model.embed_tokens.weight", (vocab, hidden))]
    for i in range(layers):
        pre = "model.layers.%d." % i
        shapes += [(pre + "self_attn.q_proj.weight", (hidden, hidden))]
        if variant == "bias" and i == 0:
            shapes += [(pre + "self_attn.q_proj.bias", (hidden,))]
        shapes += [(pre + "self_attn.k_proj.weight", (kv, hidden)), (pre + "self_attn.v_proj.weight", (kv, hidden)),
                   (pre + "self_attn.o_proj.weight", (hidden, hidden)), (pre + "mlp.gate_proj.weight", (mlp, hidden)),
                   (pre + "mlp.up_proj.weight", (mlp, hidden)), (pre + "mlp.down_proj.weight", (hidden, mlp)),
                   (pre + "input_layernorm.weight", (hidden,)), (pre + "post_attention_layernorm.weight", (hidden,))]
    shapes += [("model.norm.weight", (hidden,))]
    if variant != "tied":
        shapes += [("lm_head.weight", (vocab, hidden))]
    torch.manual_seed(1)
    params = collections.OrderedDict(
        (name, torch.ones(shape) if name.endswith("norm.weight") else torch.randn(shape) * 0.02)
        for name, shape in shapes)
    for p in params.values():
        p.requires_grad_(True)
    config = {"hidden_size": hidden, "num_attention_heads": heads, "num_key_value_heads": kv // (hidden // heads),
              "num_hidden_layers": layers, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
              "tie_word_embeddings": variant == "tied"}
    return params, config, vocab


def save(path, steps, variant):
    steps = steps if variant in ("miner", "rotary", "weights_only") else 2
    params, config, vocab = llama(variant)
    trainable = list(params.values())
    if variant == "sgd":
        optimizer = torch.optim.SGD(trainable, lr=0.05, momentum=0.9)
    else:
        optimizer = torch.optim.AdamW(trainable, lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: min(1.0, (epoch + 1) / 10))
    generator = torch.Generator().manual_seed(2)
    forward = {k: v for k, v in params.items() if not k.endswith("bias")}
    for _ in range(steps):
        tokens = torch.randint(vocab, (2, 17), generator=generator)
        logits = llama_logits(forward, config, tokens[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, vocab), tokens[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        scheduler.step()
    state_dict = collections.OrderedDict((name, p.detach()) for name, p in params.items())
    if variant == "tied":  # as nn.Module.state_dict() of a tied model: the same tensor under both names
        state_dict["lm_head.weight"] = state_dict["model.embed_tokens.weight"]
    if variant == "rotary":
        dim = config["hidden_size"] // config["num_attention_heads"]
        for i in range(config["num_hidden_layers"]):
            inv_freq = 1.0 / (config["rope_theta"] ** (torch.arange(0, dim, 2).float() / dim))
            state_dict["model.layers.%d.self_attn.rotary_emb.inv_freq" % i] = inv_freq
    state_dict._metadata = collections.OrderedDict([("", {"version": 1})])  # as nn.Module.state_dict() has
    checkpoint = {"global_step": steps, "model_state_dict": state_dict}
    if variant != "weights_only":
        checkpoint["optimizer_state_dict"] = optimizer.state_dict()
        checkpoint["scheduler_state_dict"] = scheduler.state_dict()
    torch.save(checkpoint, path)
    return {"loss": float(loss), "lr": optimizer.param_groups[0]["lr"]}


def continue_training(checkpoint, tokens_file):
    ck = load(checkpoint)
    params = collections.OrderedDict((k, v.clone().requires_grad_(True)) for k, v in ck["model_state_dict"].items())
    model = config = ck["config"]["model"]
    if model.get("tie_word_embeddings"):  # one parameter under both names, as nn.Module ties them
        params["lm_head.weight"] = params["model.embed_tokens.weight"]
    optimizer = torch.optim.AdamW(list(dict.fromkeys(params.values())))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1.0)
    optimizer.load_state_dict(ck["optimizer_state_dict"])
    scheduler.load_state_dict(ck["scheduler_state_dict"])
    lr = optimizer.param_groups[0]["lr"]
    with open(tokens_file) as f:
        tokens = torch.tensor(json.load(f))
    logits = llama_logits(params, config, tokens[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, model["vocab_size"]), tokens[:, 1:].reshape(-1))
    loss.backward()
    optimizer.step()
    scheduler.step()
    print(json.dumps({"loss": float(loss), "lr": lr, "step": float(optimizer.state_dict()["state"][0]["step"])}))


DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
          "BOOL": torch.bool}


def safetensors(directory, checkpoint):
    with open(os.path.join(directory, "model.safetensors"), "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length).decode("utf-8"))
        data = f.read()
    metadata = header.pop("__metadata__", {})
    expected = load(checkpoint)["model_state_dict"]
    spans, equal = [], []
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        spans.append((begin, end))
        tensor = torch.frombuffer(bytearray(data[begin:end]), dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
        reference = expected.get(name)
        equal.append(reference is not None and reference.dtype == tensor.dtype and torch.equal(reference, tensor))
    spans.sort()
    tiled = spans[0][0] == 0 and spans[-1][1] == len(data) and all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    shapes = {name: entry["shape"] for name, entry in header.items()}
    layers = config["num_hidden_layers"]
    consistent = (shapes["model.embed_tokens.weight"] == [config["vocab_size"], config["hidden_size"]]
                  and shapes["model.layers.0.mlp.gate_proj.weight"] == [config["intermediate_size"], config["hidden_size"]]
                  and "model.layers.%d.mlp.up_proj.weight" % (layers - 1) in shapes
                  and "model.layers.%d.mlp.up_proj.weight" % layers not in shapes)
    print(json.dumps({"tensors": len(header), "all_equal": all(equal), "checkpoint_tensors": len(expected),
                      "header_aligned": (8 + length) % 8 == 0, "tiled": tiled, "metadata": metadata,
                      "config_matches_shapes": consistent, "architectures": config["architectures"],
                      "heads": config["num_attention_heads"], "kv_heads": config["num_key_value_heads"]}))


if __name__ == "__main__":
    if sys.argv[1] == "save":
        print(json.dumps({v: save(os.path.join(sys.argv[2], v + ".pth"), int(sys.argv[3]), v) for v in sys.argv[4:]}))
    elif sys.argv[1] == "continue":
        continue_training(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "safetensors":
        safetensors(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(__doc__)
