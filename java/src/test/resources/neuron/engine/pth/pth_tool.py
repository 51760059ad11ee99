"""Python side of the engine's .pth interop tests (run with Debian's python3-torch).

  pth_tool.py dump FILE        check data.pkl against torch's weights_only whitelist, load it, print JSON:
                               {"weights_only": "ok" | "operand 71", "tree": <canonical>, "records": [...]}
  pth_tool.py fixtures DIR     torch.save reference files into DIR, each with NAME.json = its canonical tree
  pth_tool.py records FILE     the zip records as Python's zipfile sees them, and the hex of those under 1 KiB

The canonical form matches PthCanonical.java: ints as decimal strings, floats as big-endian hex, dict items
as [key, value] pairs, tensors with dtype/shape/stride/offset/storage number/row-major bytes in hex.
"""
import collections
import json
import os
import pickletools
import struct
import sys
import zipfile

import torch

# torch/_weights_only_unpickler.py (current PyTorch): the opcodes it accepts
WHITELIST = {
    "PROTO", "STOP", "GLOBAL", "REDUCE", "BUILD", "NEWOBJ", "APPEND", "APPENDS", "SETITEM", "SETITEMS", "MARK",
    "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "EMPTY_TUPLE", "EMPTY_LIST", "EMPTY_DICT", "EMPTY_SET", "NONE",
    "NEWTRUE", "NEWFALSE", "BININT", "BININT1", "BININT2", "LONG1", "BINFLOAT", "BINUNICODE", "SHORT_BINSTRING",
    "BINPERSID", "BINGET", "LONG_BINGET", "BINPUT", "LONG_BINPUT",
}
STORAGES = ["DoubleStorage", "FloatStorage", "HalfStorage", "BFloat16Storage", "LongStorage", "IntStorage",
            "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage", "ComplexFloatStorage", "ComplexDoubleStorage"]
ALLOWED_GLOBALS = {"collections OrderedDict", "torch._utils _rebuild_tensor_v2"} | {"torch " + s for s in STORAGES}


def check_pickle(path):
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None, "bad CRC"
        name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        for op, arg, pos in pickletools.genops(z.read(name)):
            assert op.name in WHITELIST, "opcode %s at %d not on the weights_only whitelist" % (op.name, pos)
            if op.name == "GLOBAL":
                assert arg in ALLOWED_GLOBALS, "global %r not on the allow-list" % arg


def load(path):
    try:
        return "ok", torch.load(path, weights_only=True)
    except Exception as e:  # torch 1.x's weights_only unpickler lacks BINFLOAT (pth-format.md section 9); torch 2 has no fallback
        if not torch.__version__.startswith("1.") or "Unsupported operand 71" not in str(e):
            raise
        return "operand 71", torch.load(path, weights_only=False)


def records(path):
    out = []
    with open(path, "rb") as f, zipfile.ZipFile(path) as z:
        for info in z.infolist():
            f.seek(info.header_offset + 26)
            name_len, extra_len = struct.unpack("<HH", f.read(4))
            out.append([info.filename, info.header_offset, info.header_offset + 30 + name_len + extra_len,
                        info.file_size, info.compress_type])
    return out


class Canon:
    def __init__(self):
        self.storages = {}

    def __call__(self, x):
        if x is None:
            return None
        if isinstance(x, bool):
            return {"bool": x}
        if isinstance(x, int):
            return {"int": str(x)}
        if isinstance(x, float):
            return {"float": struct.pack(">d", x).hex()}
        if isinstance(x, str):
            return {"str": x}
        if isinstance(x, torch.Tensor):
            return {"tensor": self.tensor(x)}
        if isinstance(x, tuple):
            return {"tuple": [self(v) for v in x]}
        if isinstance(x, list):
            return {"list": [self(v) for v in x]}
        if isinstance(x, collections.OrderedDict):
            return {"odict": [[self(k), self(v)] for k, v in x.items()]}
        if isinstance(x, dict):
            return {"dict": [[self(k), self(v)] for k, v in x.items()]}
        raise TypeError("no canonical form for %r" % type(x))

    def tensor(self, t):
        flat = t.detach().contiguous().reshape(-1)
        data = flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""
        number = self.storages.setdefault(t.storage()._cdata, len(self.storages))
        return {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "stride": list(t.stride()),
                "offset": t.storage_offset(), "requires_grad": t.requires_grad, "storage": number,
                "bytes": data.hex()}


def fixtures(directory):
    torch.manual_seed(7)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.ReLU(),
                                torch.nn.Linear(3, 2, bias=False))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 / (1 + step))
    for _ in range(3):
        optimizer.zero_grad()
        model(torch.randn(5, 4)).pow(2).mean().backward()
        optimizer.step()
        scheduler.step()
    base = torch.arange(12, dtype=torch.float64)
    zoo = {
        "dtypes": collections.OrderedDict(
            (str(d).replace("torch.", ""), (torch.rand(2, 3) * 100).to(d))
            for d in [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32,
                      torch.int16, torch.int8, torch.uint8, torch.bool]),
        "scalar": torch.tensor(2.5), "empty": torch.zeros(0, 4, dtype=torch.int64),
        "views": [base.view(3, 4), base.view(3, 4).t(), base[5:9], base[::3]],
        "param": torch.nn.Parameter(torch.ones(2)),
        "values": (None, True, False, 0, -1, 2 ** 31, -(2 ** 63), 2 ** 100, "\u00fcnic\u00f6de", [], {}, (1,)),
        "complex": [torch.randn(2, 3, dtype=torch.complex64), torch.randn(3, dtype=torch.complex128)],
        "keys": {(1, "a"): "tuple", (): "empty tuple", ((2,), None): "nested", 1.5: "float", -0.0: "negative zero",
                 True: "bool", None: "None", 2 ** 70: "big int"},
        5: "int key",
    }
    checkpoint = {
        "global_step": 3,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "scheduler_state_dict": scheduler.state_dict(),
    }
    for name, obj in [("model", model.state_dict()), ("optim", optimizer.state_dict()),
                      ("sched", scheduler.state_dict()), ("ckpt", checkpoint), ("zoo", zoo)]:
        torch.save(obj, os.path.join(directory, name + ".pth"))
        with open(os.path.join(directory, name + ".json"), "w") as f:
            json.dump(Canon()(obj), f)


def main():
    if sys.argv[1] == "dump":
        check_pickle(sys.argv[2])
        mode, obj = load(sys.argv[2])
        print(json.dumps({"weights_only": mode, "tree": Canon()(obj), "records": records(sys.argv[2])}))
    elif sys.argv[1] == "fixtures":
        fixtures(sys.argv[2])
    elif sys.argv[1] == "records":
        with zipfile.ZipFile(sys.argv[2]) as z:  # read() checks the CRC of each small record
            small = {i.filename: z.read(i).hex() for i in z.infolist() if i.file_size < 1024}
        print(json.dumps({"records": records(sys.argv[2]), "small": small,
                          "torch_has_mmap": "mmap" in torch.load.__code__.co_varnames}))
    else:
        raise SystemExit("usage: pth_tool.py dump FILE | fixtures DIR | records FILE")


if __name__ == "__main__":
    main()
