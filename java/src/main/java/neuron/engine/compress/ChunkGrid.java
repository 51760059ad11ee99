package neuron.engine.compress;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.bytedeco.pytorch.global.torch.arange;

/**
 * How a tensor is cut into chunks. A tensor of rank ≥ 2 is seen as a matrix {@code shape[0] × (the rest)} and tiled
 * with {@code chunkRows × chunkCols} chunks; a 1-D tensor (or a scalar) as one row tiled with chunks of
 * {@code chunkRows·chunkCols} values. Where a side is not a multiple of the chunk's, the remainder forms edge chunks
 * of the remaining size (a right strip, a bottom strip, a corner): neither padded nor re-divided. Each of those at
 * most four regions has chunks of one shape, so it is handled by one batched operation, and keeps
 * {@code min(topK, chunk size)} values per chunk. Kept positions are ordered region by region (main, right, bottom,
 * corner), chunk by chunk (row-major over the chunk grid), ascending position (row-major inside the chunk).
 */
final class ChunkGrid {
    /** {@code rows × cols} of the matrix from ({@code row}, {@code col}), tiled with {@code h × w} chunks. */
    record Region(long row, long col, long rows, long cols, long h, long w, int k) {
        long chunks() {
            return (rows / h) * (cols / w);
        }

        long size() {
            return h * w;
        }

        long kept() {
            return chunks() * k;
        }
    }

    private final long[] shape;
    private final long rows;
    private final long cols;
    private final List<Region> regions;
    private final long kept;

    private ChunkGrid(long[] shape, long rows, long cols, List<Region> regions) {
        this.shape = shape;
        this.rows = rows;
        this.cols = cols;
        this.regions = List.copyOf(regions);
        this.kept = regions.stream().mapToLong(Region::kept).sum();
    }

    static ChunkGrid of(long[] shape, CodecSettings s) {
        long numel = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative size in shape " + Arrays.toString(shape));
            }
            numel = Math.multiplyExact(numel, d);
        }
        boolean matrix = shape.length >= 2;
        long rows = matrix ? shape[0] : 1;
        long cols = matrix ? (rows == 0 ? 0 : numel / rows) : numel;
        long h = matrix ? s.chunkRows() : 1;
        long w = matrix ? s.chunkCols() : (long) s.chunkRows() * s.chunkCols();
        long fullRows = rows / h * h;
        long fullCols = cols / w * w;
        List<Region> regions = new ArrayList<>(4);
        add(regions, s, 0, 0, fullRows, fullCols, h, w);
        add(regions, s, 0, fullCols, fullRows, cols - fullCols, h, cols - fullCols);
        add(regions, s, fullRows, 0, rows - fullRows, fullCols, rows - fullRows, w);
        add(regions, s, fullRows, fullCols, rows - fullRows, cols - fullCols, rows - fullRows, cols - fullCols);
        return new ChunkGrid(shape.clone(), rows, cols, regions);
    }

    private static void add(List<Region> regions, CodecSettings s, long row, long col, long rows, long cols, long h,
                            long w) {
        if (rows > 0 && cols > 0) {
            regions.add(new Region(row, col, rows, cols, h, w, (int) Math.min(s.topK(), h * w)));
        }
    }

    long[] shape() {
        return shape.clone();
    }

    List<Region> regions() {
        return regions;
    }

    /** The number of values kept: the length of the index and value sequences. */
    long kept() {
        return kept;
    }

    /** {@code t} as the matrix the grid tiles (a view where {@code t} is contiguous). */
    Tensor matrix(Tensor t) {
        return t.reshape(rows, cols);
    }

    /** The region's chunks as rows of a fresh {@code [chunks, h·w]} tensor. */
    static Tensor chunks(Tensor matrix, Region r) {
        return matrix.narrow(0, r.row(), r.rows()).narrow(1, r.col(), r.cols())
                .view(r.rows() / r.h(), r.h(), r.cols() / r.w(), r.w())
                .permute(0, 2, 1, 3).reshape(r.chunks(), r.size());
    }

    /**
     * Where positions {@code p} ({@code [chunks, k]}, within their chunks of region {@code r}) lie in the flattened
     * tensor: scattering there needs no chunked copy of the whole tensor.
     */
    Tensor flatPositions(Region r, Tensor p) {
        long across = r.cols() / r.w();
        Tensor chunk = arange(new Scalar(0L), new Scalar(r.chunks()), new Scalar(1L), BitPacking.i64()).unsqueeze(1);
        Tensor chunkRow = chunk.floor_divide(new Scalar(across));
        Tensor chunkCol = chunk.remainder(new Scalar(across));
        Tensor origin = chunkRow.mul(new Scalar(r.h() * cols)).add(chunkCol.mul(new Scalar(r.w())))
                .add(new Scalar(r.row() * cols + r.col()));
        Tensor inRow = p.floor_divide(new Scalar(r.w()));
        return origin.add(inRow.mul(new Scalar(cols))).add(p.remainder(new Scalar(r.w())));
    }
}
