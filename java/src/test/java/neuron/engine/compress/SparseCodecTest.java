package neuron.engine.compress;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.equal;
import static org.bytedeco.pytorch.global.torch.manual_seed;
import static org.bytedeco.pytorch.global.torch.randn;
import static org.bytedeco.pytorch.global.torch.tensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The codec: bit layouts, chunking of every kind of shape, top-k selection, quantization, size. */
class SparseCodecTest {
    static final long SEED = Long.getLong("neuron.test.seed", 26L);
    private final SparseCodec codec = new SparseCodec(CodecSettings.DEFAULT);

    /** Parameter shapes by name, in order: {@code shapes("w", new long[]{64, 96}, "n", new long[]{64})}. */
    static Map<String, long[]> shapes(Object... nameThenShape) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (int i = 0; i < nameThenShape.length; i += 2) {
            shapes.put((String) nameThenShape[i], (long[]) nameThenShape[i + 1]);
        }
        return shapes;
    }

    static Tensor random(long seed, long... shape) {
        manual_seed(seed);
        return randn(shape, new TensorOptions(ScalarType.Float));
    }

    private static long[] longs(Tensor t) {
        Tensor c = t.to(ScalarType.Long).contiguous();
        long[] out = new long[(int) c.numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = c.get(i).item_long();
        }
        return out;
    }

    @Test
    void indicesPackTwoInThreeBytes() {
        try (PointerScope scope = new PointerScope()) {
            Tensor packed = BitPacking.packIndices(tensor(new long[]{1, 0xABC, 4095}, new TensorOptions(ScalarType.Long)));
            assertArrayEquals(new long[]{0x01, 0xC0, 0xAB, 0xFF, 0x0F, 0x00}, longs(packed));
            assertArrayEquals(new long[]{1, 0xABC, 4095, 0}, longs(BitPacking.unpackIndices(packed)));
            assertEquals(6, BitPacking.indexBytes(3));
        }
    }

    @Test
    void codesPackLowBitsFirst() {
        try (PointerScope scope = new PointerScope()) {
            Tensor packed = BitPacking.packCodes(tensor(new long[]{1, 2, 3, 0, 1}, new TensorOptions(ScalarType.Long)), 2);
            assertArrayEquals(new long[]{1 | 2 << 2 | 3 << 4, 1}, longs(packed));
            assertArrayEquals(new long[]{1, 2, 3, 0, 1, 0, 0, 0}, longs(BitPacking.unpackCodes(packed, 2)));
            assertEquals(2, BitPacking.codeBytes(5, 2));
        }
    }

    @Test
    void edgeChunksHoldTheRemainder() {
        ChunkGrid g = ChunkGrid.of(new long[]{1376, 512}, CodecSettings.DEFAULT);
        assertEquals(List.of(new ChunkGrid.Region(0, 0, 1344, 512, 64, 64, 64),
                new ChunkGrid.Region(1344, 0, 32, 512, 32, 64, 64)), g.regions());
        ChunkGrid corner = ChunkGrid.of(new long[]{70, 100}, CodecSettings.DEFAULT);
        assertEquals(4, corner.regions().size());
        assertEquals(new ChunkGrid.Region(64, 64, 6, 36, 6, 36, 64), corner.regions().get(3));
        assertEquals(64 + 64 + 64 + 64, corner.kept());
        ChunkGrid vector = ChunkGrid.of(new long[]{5000}, CodecSettings.DEFAULT);
        assertEquals(List.of(new ChunkGrid.Region(0, 0, 1, 4096, 1, 4096, 64),
                new ChunkGrid.Region(0, 4096, 1, 904, 1, 904, 64)), vector.regions());
        assertEquals(9, ChunkGrid.of(new long[]{3, 3}, CodecSettings.DEFAULT).kept(), "a chunk smaller than k is kept whole");
    }

    @Test
    void keepsTheLargestOfEachChunkAndNothingElse() {
        for (long[] shape : new long[][]{{512, 1376}, {1376, 512}, {70, 100}, {5000}, {3, 3}, {8, 4, 4}}) {
            try (PointerScope scope = new PointerScope()) {
                Tensor x = random(SEED, shape);
                ChunkGrid grid = ChunkGrid.of(shape, CodecSettings.DEFAULT);
                try (CompressedTensor c = codec.compress(x); Tensor d = codec.decompress(c)) {
                    assertArrayEquals(shape, d.sizes().vec().get());
                    Tensor mx = grid.matrix(x.abs());
                    Tensor md = grid.matrix(d);
                    for (ChunkGrid.Region r : grid.regions()) {
                        Tensor kept = ChunkGrid.chunks(md, r).ne(new Scalar(0.0));
                        Tensor magnitude = ChunkGrid.chunks(mx, r);
                        assertEquals(r.kept(), kept.sum().item_long(), Arrays.toString(shape) + " " + r);
                        Tensor smallestKept = magnitude.where(kept, new Scalar(1e30)).min(1, false).get0();
                        Tensor largestDropped = magnitude.where(kept.logical_not(), new Scalar(-1.0)).max(1, false).get0();
                        assertTrue(smallestKept.ge(largestDropped).all().item_bool(), Arrays.toString(shape) + " " + r);
                    }
                }
            }
        }
    }

    @Test
    void quantizationKeepsTheSignAndScaleOfEachKeptValue() {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = random(SEED, 256, 256);
            try (CompressedTensor c = codec.compress(x); Tensor d = codec.decompress(c)) {
                Tensor kept = d.ne(new Scalar(0.0));
                assertTrue(d.sign().ne(x.sign()).logical_and(kept).any().item_bool() == false, "a sign flipped");
                // the top 64 of 4096 standard normal values are the tails beyond about 2.4; their levels' means too
                double smallest = d.abs().where(kept, new Scalar(1e30)).min().item_double();
                assertTrue(smallest > 2 && d.abs().max().item_double() < 5, "levels " + c.lut());
            }
        }
    }

    @Test
    void aSmallShapedUpdateIsUnderTwoPercentOfFloat32() {
        try (PointerScope scope = new PointerScope(); CompressedTensor c = codec.compress(random(SEED, 1376, 512))) {
            double ratio = (double) c.bytes() / (1376 * 512 * Float.BYTES);
            assertTrue(ratio < 0.02, "ratio " + ratio);
        }
    }

    @Test
    void zerosAndConstantsSurvive() {
        try (PointerScope scope = new PointerScope()) {
            Tensor zero = random(SEED, 64, 64).mul(new Scalar(0.0));
            try (CompressedTensor c = codec.compress(zero); Tensor d = codec.decompress(c)) {
                assertTrue(equal(d, zero));
            }
        }
    }
}
