# Every value of each checkpoint after the first equals the first's: same keys in the same order, same scalars,
# tensors with the same dtype, shape and bytes.
import sys
import torch


def same(a, b, path):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor), path
        assert a.dtype == b.dtype and a.shape == b.shape, (path, a.dtype, b.dtype, a.shape, b.shape)
        assert torch.equal(a.reshape(-1).view(torch.uint8), b.reshape(-1).view(torch.uint8)), path
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a.keys()) == list(b.keys()), (path, list(a.keys()), list(b.keys()))
        for k in a:
            same(a[k], b[k], path + "/" + str(k))
    elif isinstance(a, (list, tuple)):
        assert type(a) == type(b) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, path + "[" + str(i) + "]")
    else:
        assert type(a) == type(b) and a == b, (path, a, b)


reference = torch.load(sys.argv[1], map_location="cpu")
for other in sys.argv[2:]:
    same(reference, torch.load(other, map_location="cpu"), other)
    print("identical", other, "global_step", reference["global_step"])
