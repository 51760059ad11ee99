package neuron.engine.compress;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;

import static org.bytedeco.pytorch.global.torch.cat;
import static org.bytedeco.pytorch.global.torch.ones_like;
import static org.bytedeco.pytorch.global.torch.zeros;

/**
 * Chunked top-k with quantized values (SparseLoCo's compressor), on CPU float32 tensors.
 * <p>{@link #compress}: per chunk ({@link ChunkGrid}) the {@code k} values largest in magnitude are kept, their
 * positions in ascending order; the tensor's kept values are quantized together: with {@code μ} their mean,
 * {@code σ} the standard deviation of {@code v − μ} and {@code L = 2^bits} levels, the code of {@code v} is
 * {@code clamp(round((v − μ) / (range·σ/L) + L/2), 0, L−1)}, and the lookup table holds, per code, the mean of
 * {@code v − μ} over the values given that code (0 for a code unused), plus {@code μ}.
 * <p>{@link #decompress}: zeros, with each kept position set to {@code lut[code]}. It is a pure gather and scatter,
 * so any implementation of it gives the same float32 values bit for bit; compression is a choice of the sender's
 * that receivers never need to repeat.
 */
public final class SparseCodec {

    private final CodecSettings settings;

    public SparseCodec(CodecSettings settings) {
        this.settings = settings;
    }

    public CodecSettings settings() {
        return settings;
    }

    /** Options made per call: a static instance would belong to the first PointerScope that touched it. */
    static TensorOptions f32() {
        return new TensorOptions(ScalarType.Float);
    }

    /** Compresses {@code t} (any floating dtype; computed in float32 on the CPU). */
    public CompressedTensor compress(Tensor t) {
        long[] shape = t.sizes().vec().get();
        ChunkGrid grid = ChunkGrid.of(shape, settings);
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            Tensor matrix = grid.matrix(t.to(ScalarType.Float).contiguous());
            TensorVector indexParts = new TensorVector();
            TensorVector valueParts = new TensorVector();
            for (ChunkGrid.Region r : grid.regions()) {
                Tensor chunks = ChunkGrid.chunks(matrix, r);
                Tensor top = chunks.abs().topk(r.k(), 1, true, false).get1();
                Tensor positions = top.sort(1, false).get0();
                indexParts.push_back(positions.reshape(-1));
                valueParts.push_back(chunks.gather(1, positions).reshape(-1));
            }
            Tensor positions = grid.kept() == 0 ? zeros(new long[]{0}, BitPacking.i64()) : cat(indexParts);
            Tensor values = grid.kept() == 0 ? zeros(new long[]{0}, f32()) : cat(valueParts);
            Tensor mean = values.numel() == 0 ? zeros(new long[]{}, f32()) : values.mean();
            Tensor centered = values.sub(mean);
            Tensor codes = quantize(centered);
            Tensor lut = lookupTable(centered, codes, mean);
            if (!lut.isfinite().all().item_bool()) {
                throw new IllegalArgumentException("a tensor of shape " + Arrays.toString(shape) + " holds NaN or Inf");
            }
            Tensor packedIndices = BitPacking.packIndices(positions);
            Tensor packedCodes = BitPacking.packCodes(codes, settings.valueBits());
            packedIndices.retainReference();
            packedCodes.retainReference();
            lut.retainReference();
            return new CompressedTensor(shape, settings, packedIndices, packedCodes, lut);
        }
    }

    /** Codes of the values less their mean; a degenerate spread (0, 1 value, not finite) quantizes with step 1. */
    private Tensor quantize(Tensor centered) {
        long n = centered.numel();
        int levels = settings.levels();
        double scale = n > 1 ? settings.rangeSigmas() * centered.norm().item_double() / Math.sqrt(n - 1) / levels : 0;
        if (!(scale > 0) || Double.isInfinite(scale)) {
            scale = 1;
        }
        return centered.div(new Scalar(scale)).add(new Scalar((double) (levels / 2))).round()
                .clamp(new ScalarOptional(new Scalar(0.0)), new ScalarOptional(new Scalar((double) (levels - 1))))
                .to(ScalarType.Long);
    }

    private Tensor lookupTable(Tensor centered, Tensor codes, Tensor mean) {
        long levels = settings.levels();
        Tensor sums = zeros(new long[]{levels}, f32()).index_add_(0, codes, centered);
        Tensor counts = zeros(new long[]{levels}, f32()).index_add_(0, codes, ones_like(centered));
        return sums.div(counts).where(counts.gt(new Scalar(0.0)), new Scalar(0.0)).add(mean);
    }

    /** The dense float32 tensor that {@code c} stands for; {@code c} must be {@link #check checked} if it was read. */
    public Tensor decompress(CompressedTensor c) {
        ChunkGrid grid = ChunkGrid.of(c.shape(), c.settings());
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            long kept = grid.kept();
            Tensor positions = BitPacking.unpackIndices(c.indices()).narrow(0, 0, kept);
            Tensor codes = BitPacking.unpackCodes(c.codes(), c.settings().valueBits()).narrow(0, 0, kept);
            Tensor values = c.lut().index_select(0, codes);
            long numel = Arrays.stream(c.shape()).reduce(1, Math::multiplyExact);
            Tensor dense = zeros(new long[]{numel}, f32());
            long at = 0;
            for (ChunkGrid.Region r : grid.regions()) {
                Tensor p = positions.narrow(0, at, r.kept()).view(r.chunks(), r.k());
                dense.scatter_(0, grid.flatPositions(r, p).reshape(-1), values.narrow(0, at, r.kept()));
                at += r.kept();
            }
            Tensor out = dense.view(c.shape());
            out.retainReference();
            return out;
        }
    }

    /**
     * Checks a tensor read from a file against these settings and {@code shape}: the settings match, the three
     * tensors have the lengths the shape implies, the table is finite, every position lies inside its chunk and
     * positions ascend strictly within a chunk (no position twice), and the completing bits are 0.
     */
    public void check(String name, CompressedTensor c, long[] shape) throws UpdateFormatException {
        if (!c.settings().equals(settings)) {
            throw new UpdateFormatException(name + " was made with " + c.settings() + ", this network uses " + settings);
        }
        if (!Arrays.equals(c.shape(), shape)) {
            throw new UpdateFormatException(name + " has shape " + Arrays.toString(c.shape()) + ", expected "
                    + Arrays.toString(shape));
        }
        ChunkGrid grid = ChunkGrid.of(shape, settings);
        long kept = grid.kept();
        expectLength(name, "indices", c.indices(), ScalarType.Byte, BitPacking.indexBytes(kept));
        expectLength(name, "codes", c.codes(), ScalarType.Byte, BitPacking.codeBytes(kept, settings.valueBits()));
        expectLength(name, "lut", c.lut(), ScalarType.Float, settings.levels());
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            if (!c.lut().isfinite().all().item_bool()) {
                throw new UpdateFormatException(name + "'s lookup table holds NaN or Inf");
            }
            Tensor positions = BitPacking.unpackIndices(c.indices());
            Tensor codes = BitPacking.unpackCodes(c.codes(), settings.valueBits());
            if (positions.narrow(0, kept, positions.numel() - kept).any().item_bool()
                    || codes.narrow(0, kept, codes.numel() - kept).any().item_bool()) {
                throw new UpdateFormatException(name + " has non-zero bits after its last index or code");
            }
            long at = 0;
            for (ChunkGrid.Region r : grid.regions()) {
                Tensor p = positions.narrow(0, at, r.kept()).view(r.chunks(), r.k());
                if (p.ge(new Scalar(r.size())).any().item_bool()) {
                    throw new UpdateFormatException(name + " has an index outside its chunk of " + r.size() + " values");
                }
                if (r.k() > 1 && !p.narrow(1, 1, r.k() - 1).gt(p.narrow(1, 0, r.k() - 1)).all().item_bool()) {
                    throw new UpdateFormatException(name + "'s indices do not ascend within a chunk");
                }
                at += r.kept();
            }
        }
    }

    private static void expectLength(String name, String part, Tensor t, ScalarType dtype, long length)
            throws UpdateFormatException {
        if (t.scalar_type().intern() != dtype || t.dim() != 1 || t.numel() != length) {
            throw new UpdateFormatException(name + "'s " + part + " is " + t.scalar_type().intern() + " "
                    + Arrays.toString(t.sizes().vec().get()) + ", expected " + dtype + " [" + length + "]");
        }
    }
}
