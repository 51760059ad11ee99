"""What torch.save of PyTorch 2.x writes for the dtypes torch 1.x lacks (float8 kinds, uint16/32/64, complex32, bits).

torch/serialization.py's _save pickles at protocol 2 with persistent ids; torch/_tensor.py reduces such a tensor to
torch._utils._rebuild_tensor_v3(untyped_storage, offset, size, stride, requires_grad, OrderedDict(), dtype), its
storage to ("storage", torch.UntypedStorage, key, location, nbytes), and a dtype to the global torch.<name>.
Debian's torch 1.13 cannot make these tensors, so this script does the same with the standard library and stand-in
torch modules, and stores the records as torch.save does (data.pkl, byteorder, data/<key>, version under one
prefix). Usage: torch2_save.py DIR  ->  DIR/torch2.pth and DIR/torch2.json, its tree in pth_tool.py's canonical form.
"""
import collections
import json
import os
import pickle
import random
import struct
import sys
import types
import zipfile

torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
torch._utils = torch_utils
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils


class UntypedStorage:
    def __init__(self, data):
        self.data = data


UntypedStorage.__module__ = "torch"
torch.UntypedStorage = UntypedStorage


def _rebuild_tensor_v3(*args):
    raise AssertionError("only pickled here, never called")


_rebuild_tensor_v3.__module__ = "torch._utils"
torch_utils._rebuild_tensor_v3 = _rebuild_tensor_v3


class DType:
    """A torch.dtype: pickled as the global torch.<name>, as torch.dtype.__reduce__ does."""

    def __init__(self, name, size):
        self.name, self.size = name, size
        self.__module__ = "torch"
        setattr(torch, name, self)

    def __reduce__(self):
        return self.name


class Tensor:
    def __init__(self, storage, offset, shape, stride, dtype):
        self.storage, self.offset, self.shape, self.stride, self.dtype = storage, offset, shape, stride, dtype

    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor_v3, (self.storage, self.offset, tuple(self.shape), tuple(self.stride), False,
                                     collections.OrderedDict(), self.dtype))

    def canonical(self, numbers):
        size = self.dtype.size
        elements, index = [], [0] * len(self.shape)
        count = 1
        for d in self.shape:
            count *= d
        for _ in range(count):
            at = self.offset + sum(i * s for i, s in zip(index, self.stride))
            elements.append(self.storage.data[at * size:(at + 1) * size])
            for d in reversed(range(len(index))):
                index[d] += 1
                if index[d] < self.shape[d]:
                    break
                index[d] = 0
        number = numbers.setdefault(id(self.storage), len(numbers))
        return {"tensor": {"dtype": self.dtype.name, "shape": list(self.shape), "stride": list(self.stride),
                           "offset": self.offset, "requires_grad": False, "storage": number,
                           "bytes": b"".join(elements).hex()}}


class Pickler(pickle.Pickler):
    def __init__(self, file):
        super().__init__(file, protocol=2)
        self.keys = {}

    def persistent_id(self, obj):
        if isinstance(obj, UntypedStorage):
            key = self.keys.setdefault(id(obj), (str(len(self.keys)), obj))[0]
            return ("storage", UntypedStorage, key, "cpu", len(obj.data))
        return None


def main(directory):
    rng = random.Random(5)
    dtypes = [DType(name, size) for name, size in [
        ("uint16", 2), ("uint32", 4), ("uint64", 8), ("float8_e4m3fn", 1), ("float8_e5m2", 1),
        ("float8_e4m3fnuz", 1), ("float8_e5m2fnuz", 1), ("float8_e8m0fnu", 1), ("complex32", 4), ("bits8", 1),
        ("bits16", 2)]]
    root = {}
    for dtype in dtypes:
        storage = UntypedStorage(bytes(rng.randrange(256) for _ in range(6 * dtype.size)))
        root[dtype.name] = Tensor(storage, 0, (2, 3), (3, 1), dtype)
    root["uint16_view"] = Tensor(root["uint16"].storage, 1, (2,), (2,), dtypes[0])
    root["a_dtype"] = dtypes[3]
    buffer = __import__("io").BytesIO()
    pickler = Pickler(buffer)
    pickler.dump(root)
    with zipfile.ZipFile(os.path.join(directory, "torch2.pth"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("torch2/data.pkl", buffer.getvalue())
        z.writestr("torch2/byteorder", "little")
        for key, storage in sorted(pickler.keys.values()):
            z.writestr("torch2/data/" + key, storage.data)
        z.writestr("torch2/version", "3\n")
    numbers = {}
    canonical = {"dict": [[{"str": name}, value.canonical(numbers) if isinstance(value, Tensor)
                           else {"dtype": value.name}] for name, value in root.items()]}
    with open(os.path.join(directory, "torch2.json"), "w") as f:
        json.dump(canonical, f)


if __name__ == "__main__":
    main(sys.argv[1])
