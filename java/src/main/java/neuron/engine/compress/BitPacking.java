package neuron.engine.compress;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch.ScalarType;

import static org.bytedeco.pytorch.global.torch.arange;
import static org.bytedeco.pytorch.global.torch.bitwise_left_shift;
import static org.bytedeco.pytorch.global.torch.bitwise_right_shift;
import static org.bytedeco.pytorch.global.torch.cat;
import static org.bytedeco.pytorch.global.torch.stack;
import static org.bytedeco.pytorch.global.torch.zeros;

/**
 * The byte layouts of the sparse format, all as LibTorch operations over whole tensors (no loop per value).
 * <ul>
 * <li>Indices: 12 bits each, two in three bytes: {@code a} and {@code b} become {@code a & 0xff},
 *     {@code (a >> 8) | (b & 0xf) << 4}, {@code b >> 4}; an odd count is completed with a 0.</li>
 * <li>Codes of {@code bits} bits: {@code 8 / bits} per byte, the first in the lowest bits; the last byte is
 *     completed with 0 codes.</li>
 * </ul>
 */
final class BitPacking {
    static final int INDEX_BITS = 12;

    private BitPacking() {
    }

    /** Options made per call: a static instance would belong to the first PointerScope that touched it. */
    static TensorOptions i64() {
        return new TensorOptions(ScalarType.Long);
    }

    /** Bytes of {@code count} packed indices. */
    static long indexBytes(long count) {
        return (count + 1) / 2 * 3;
    }

    /** Bytes of {@code count} packed codes of {@code bits} bits. */
    static long codeBytes(long count, int bits) {
        int perByte = 8 / bits;
        return (count + perByte - 1) / perByte;
    }

    /** int64 indices in 0..4095 → uint8 {@code [indexBytes(n)]}. */
    static Tensor packIndices(Tensor indices) {
        Tensor pairs = padded(indices, 2).view(-1, 2);
        Tensor a = pairs.select(1, 0);
        Tensor b = pairs.select(1, 1);
        Tensor b0 = a.bitwise_and(new Scalar(0xffL));
        Tensor b1 = bitwise_right_shift(a, new Scalar(8L)).bitwise_or(bitwise_left_shift(b.bitwise_and(new Scalar(0xfL)), new Scalar(4L)));
        Tensor b2 = bitwise_right_shift(b, new Scalar(4L));
        return stack(new TensorVector(b0, b1, b2), 1).reshape(-1).to(ScalarType.Byte);
    }

    /** uint8 packed indices → all {@code 2·bytes/3} int64 indices they hold (a completing 0 included). */
    static Tensor unpackIndices(Tensor bytes) {
        Tensor triples = bytes.to(ScalarType.Long).view(-1, 3);
        Tensor t0 = triples.select(1, 0);
        Tensor t1 = triples.select(1, 1);
        Tensor t2 = triples.select(1, 2);
        Tensor a = t0.bitwise_or(bitwise_left_shift(t1.bitwise_and(new Scalar(0xfL)), new Scalar(8L)));
        Tensor b = bitwise_right_shift(t1, new Scalar(4L)).bitwise_or(bitwise_left_shift(t2, new Scalar(4L)));
        return stack(new TensorVector(a, b), 1).reshape(-1);
    }

    /** int64 codes in 0..2^bits-1 → uint8 {@code [codeBytes(n, bits)]}. */
    static Tensor packCodes(Tensor codes, int bits) {
        int perByte = 8 / bits;
        Tensor grouped = padded(codes, perByte).view(-1, perByte);
        return bitwise_left_shift(grouped, shifts(bits)).sum(1).to(ScalarType.Byte);
    }

    /** uint8 packed codes → all {@code bytes·8/bits} int64 codes they hold (completing 0s included). */
    static Tensor unpackCodes(Tensor bytes, int bits) {
        Tensor wide = bytes.to(ScalarType.Long).unsqueeze(1);
        return bitwise_right_shift(wide, shifts(bits)).bitwise_and(new Scalar((1L << bits) - 1)).reshape(-1);
    }

    private static Tensor shifts(int bits) {
        return arange(new Scalar(0L), new Scalar(8L), new Scalar((long) bits), i64());
    }

    private static Tensor padded(Tensor values, int multiple) {
        long rest = values.numel() % multiple;
        return rest == 0 ? values : cat(new TensorVector(values, zeros(new long[]{multiple - rest}, i64())));
    }
}
