"""Reference implementation of the sparse update format (docs/updates.md), independent of the engine.

  sparse_update.py decompress UPDATE DENSE_OUT
      reads UPDATE with torch.load(weights_only=True), writes {name: float32 tensor} to DENSE_OUT
  sparse_update.py compress DENSE_IN UPDATE_OUT DENSE_OUT [chunk_rows chunk_cols topk value_bits range_sigmas]
      compresses each tensor of DENSE_IN's 'tensors' dict into UPDATE_OUT (header: 'origin': 'python') and writes
      the reference decompression of UPDATE_OUT to DENSE_OUT
"""
import collections
import sys

import torch

FORMAT = 'neuron-sparse-update'


def regions(shape, chunk_rows, chunk_cols, topk):
    """(rows, cols, [(row, col, rows, cols, h, w, k)]): main, right strip, bottom strip, corner."""
    numel = 1
    for d in shape:
        numel *= d
    if len(shape) >= 2:
        rows, h, w = shape[0], chunk_rows, chunk_cols
        cols = numel // rows if rows else 0
    else:
        rows, cols, h, w = 1, numel, 1, chunk_rows * chunk_cols
    full_r, full_c = rows // h * h, cols // w * w
    out = []
    for (r0, c0, nr, nc, ch, cw) in ((0, 0, full_r, full_c, h, w), (0, full_c, full_r, cols - full_c, h, cols - full_c),
                                     (full_r, 0, rows - full_r, full_c, rows - full_r, w),
                                     (full_r, full_c, rows - full_r, cols - full_c, rows - full_r, cols - full_c)):
        if nr > 0 and nc > 0:
            out.append((r0, c0, nr, nc, ch, cw, min(topk, ch * cw)))
    return rows, cols, out


def unpack_indices(b):
    t = b.long().view(-1, 3)
    a = t[:, 0] | ((t[:, 1] & 0xF) << 8)
    c = (t[:, 1] >> 4) | (t[:, 2] << 4)
    return torch.stack([a, c], 1).reshape(-1)


def pack_indices(idx):
    if idx.numel() % 2:
        idx = torch.cat([idx, torch.zeros(1, dtype=torch.long)])
    p = idx.view(-1, 2)
    a, c = p[:, 0], p[:, 1]
    return torch.stack([a & 0xFF, (a >> 8) | ((c & 0xF) << 4), c >> 4], 1).reshape(-1).to(torch.uint8)


def unpack_codes(b, bits):
    per = 8 // bits
    shifts = torch.arange(0, 8, bits, dtype=torch.long)
    return ((b.long().unsqueeze(1) >> shifts) & ((1 << bits) - 1)).reshape(-1)


def pack_codes(codes, bits):
    per = 8 // bits
    rest = codes.numel() % per
    if rest:
        codes = torch.cat([codes, torch.zeros(per - rest, dtype=torch.long)])
    shifts = torch.arange(0, 8, bits, dtype=torch.long)
    return (codes.view(-1, per) << shifts).sum(1).to(torch.uint8)


def decompress_entry(e):
    shape = list(e['shape'])
    rows, cols, regs = regions(shape, e['chunk'][0], e['chunk'][1], e['topk'])
    kept = sum((nr // h) * (nc // w) * k for (_, _, nr, nc, h, w, k) in regs)
    idx = unpack_indices(e['indices'])[:kept]
    vals = e['lut'][unpack_codes(e['codes'], e['value_bits'])[:kept]]
    matrix = torch.zeros(rows, cols, dtype=torch.float32)
    at = 0
    for (r0, c0, nr, nc, h, w, k) in regs:
        n = (nr // h) * (nc // w)
        chunks = torch.zeros(n, h * w, dtype=torch.float32)
        chunks.scatter_(1, idx[at:at + n * k].view(n, k), vals[at:at + n * k].view(n, k))
        matrix[r0:r0 + nr, c0:c0 + nc] = chunks.view(nr // h, nc // w, h, w).permute(0, 2, 1, 3).reshape(nr, nc)
        at += n * k
    return matrix.reshape(shape)


def compress_tensor(x, chunk_rows, chunk_cols, topk, bits, range_sigmas):
    shape = list(x.shape)
    rows, cols, regs = regions(shape, chunk_rows, chunk_cols, topk)
    m = x.float().reshape(rows, cols)
    idx_parts, val_parts = [], []
    for (r0, c0, nr, nc, h, w, k) in regs:
        chunks = m[r0:r0 + nr, c0:c0 + nc].reshape(nr // h, h, nc // w, w).permute(0, 2, 1, 3).reshape(-1, h * w)
        pos = torch.topk(chunks.abs(), k, dim=1, largest=True, sorted=False).indices.sort(dim=1).values
        idx_parts.append(pos.reshape(-1))
        val_parts.append(chunks.gather(1, pos).reshape(-1))
    idx, vals = torch.cat(idx_parts), torch.cat(val_parts)
    levels = 1 << bits
    mean = vals.mean()
    centered = vals - mean
    n = vals.numel()
    scale = range_sigmas * float(centered.norm()) / (n - 1) ** 0.5 / levels if n > 1 else 0.0
    if not scale > 0 or scale == float('inf'):
        scale = 1.0
    codes = (centered / scale + levels // 2).round().clamp(0, levels - 1).long()
    sums = torch.zeros(levels).index_add_(0, codes, centered)
    counts = torch.zeros(levels).index_add_(0, codes, torch.ones_like(centered))
    lut = torch.where(counts > 0, sums / counts, torch.zeros(levels)) + mean
    return {'shape': shape, 'chunk': [chunk_rows, chunk_cols], 'topk': topk, 'value_bits': bits,
            'indices': pack_indices(idx), 'codes': pack_codes(codes, bits), 'lut': lut}


def load_update(path):
    u = torch.load(path, weights_only=True)
    assert u['format'] == FORMAT and u['version'] == 1, (u.get('format'), u.get('version'))
    return u


def main():
    mode = sys.argv[1]
    if mode == 'decompress':
        u = load_update(sys.argv[2])
        torch.save(collections.OrderedDict((n, decompress_entry(e)) for n, e in u['params'].items()), sys.argv[3])
    elif mode == 'compress':
        dense = torch.load(sys.argv[2], weights_only=True)['tensors']
        s = [int(v) for v in sys.argv[5:10]] or [64, 64, 64, 2, 6]
        params = collections.OrderedDict((n, compress_tensor(t, *s)) for n, t in dense.items())
        torch.save({'format': FORMAT, 'version': 1, 'origin': 'python', 'params': params}, sys.argv[3])
        u = load_update(sys.argv[3])
        torch.save(collections.OrderedDict((n, decompress_entry(e)) for n, e in u['params'].items()), sys.argv[4])
    else:
        raise SystemExit('usage: sparse_update.py decompress|compress ...')


if __name__ == '__main__':
    main()
