package neuron.engine.compress;

import neuron.engine.pth.PyOrderedDict;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.bytedeco.pytorch.global.torch.tensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each kind of hostile update file is refused on read with one reason that names the problem. */
class UpdateFileHostileTest {
    private static final Map<String, long[]> SHAPES = SparseCodecTest.shapes("w", new long[]{64, 96}, "n", new long[]{64});

    @TempDir
    Path dir;
    private final SparseCodec codec = new SparseCodec(CodecSettings.DEFAULT);

    private Map<String, CompressedTensor> valid() {
        Map<String, CompressedTensor> out = new LinkedHashMap<>();
        long seed = SparseCodecTest.SEED;
        for (Map.Entry<String, long[]> e : SHAPES.entrySet()) {
            out.put(e.getKey(), codec.compress(SparseCodecTest.random(seed++, e.getValue())));
        }
        return out;
    }

    /** Writes the valid update with {@code w} replaced, and expects a refusal containing {@code reason}. */
    private void refused(String reason, UnaryOperator<CompressedTensor> w) throws Exception {
        try (PointerScope scope = new PointerScope()) {
            Map<String, CompressedTensor> tensors = valid();
            tensors.put("w", w.apply(tensors.get("w")));
            refused(reason, write(Map.of(), tensors));
        }
    }

    private Path write(Map<String, ?> header, Map<String, CompressedTensor> tensors) throws Exception {
        Path file = Files.createTempFile(dir, "update", ".pth");
        UpdateFile.write(file, header, tensors);
        return file;
    }

    private void refused(String reason, Path file) {
        UpdateFormatException e = assertThrows(UpdateFormatException.class, () -> UpdateFile.read(file, codec, SHAPES));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    private static Tensor longs(long... values) {
        return tensor(values, new TensorOptions(ScalarType.Long));
    }

    @Test
    void aValidFileIsRead() throws Exception {
        try (PointerScope scope = new PointerScope()) {
            Path file = write(Map.of("window", 3L), valid());
            try (SparseUpdate u = UpdateFile.read(file, codec, SHAPES)) {
                assertEquals(Map.of("window", 3L), u.header());
                assertEquals(SHAPES.keySet(), u.tensors().keySet());
            }
            assertTrue(Files.size(file) <= UpdateFile.maxBytes(SHAPES, CodecSettings.DEFAULT));
        }
    }

    @Test
    void anIndexOutsideItsChunk() throws Exception {
        // w is [64, 96]: a 64x64 chunk, then a 64x32 one whose indices must stay below 2048
        refused("index outside its chunk of 2048", c -> {
            Tensor idx = BitPacking.unpackIndices(c.indices()).narrow(0, 0, 128).clone();
            idx.narrow(0, 127, 1).fill_(new Scalar(3000L));
            return new CompressedTensor(c.shape(), c.settings(), BitPacking.packIndices(idx), c.codes(), c.lut());
        });
    }

    @Test
    void aPositionTwice() throws Exception {
        refused("do not ascend", c -> {
            Tensor idx = BitPacking.unpackIndices(c.indices()).narrow(0, 0, 128).clone();
            idx.narrow(0, 1, 1).copy_(idx.narrow(0, 0, 1));
            return new CompressedTensor(c.shape(), c.settings(), BitPacking.packIndices(idx), c.codes(), c.lut());
        });
    }

    @Test
    void nanOrInfInTheLookupTable() throws Exception {
        refused("NaN or Inf", c -> new CompressedTensor(c.shape(), c.settings(), c.indices(), c.codes(),
                c.lut().clone().index_fill_(0, longs(2), new Scalar(Double.NaN))));
        refused("NaN or Inf", c -> new CompressedTensor(c.shape(), c.settings(), c.indices(), c.codes(),
                c.lut().clone().index_fill_(0, longs(0), new Scalar(Double.NEGATIVE_INFINITY))));
    }

    @Test
    void wrongShapesAndLengths() throws Exception {
        refused("has shape [64, 97], expected [64, 96]", c -> new CompressedTensor(new long[]{64, 97}, c.settings(),
                c.indices(), c.codes(), c.lut()));
        refused("'s codes is", c -> new CompressedTensor(c.shape(), c.settings(), c.indices(),
                c.codes().narrow(0, 0, c.codes().numel() - 1), c.lut()));
        refused("'s lut is", c -> new CompressedTensor(c.shape(), c.settings(), c.indices(), c.codes(),
                c.lut().to(ScalarType.Double)));
    }

    @Test
    void bitsAfterTheLastIndexOrCode() throws Exception {
        Map<String, long[]> shapes = Map.of("t", new long[]{3, 3});   // 9 kept: half a triple and 3 codes spare
        try (PointerScope scope = new PointerScope(); CompressedTensor c = codec.compress(SparseCodecTest.random(1, 3, 3))) {
            Tensor idx = BitPacking.unpackIndices(c.indices()).clone();
            idx.narrow(0, 9, 1).fill_(new Scalar(5L));
            Tensor codes = BitPacking.unpackCodes(c.codes(), 2).clone();
            codes.narrow(0, 11, 1).fill_(new Scalar(3L));
            for (CompressedTensor bad : List.of(
                    new CompressedTensor(c.shape(), c.settings(), BitPacking.packIndices(idx), c.codes(), c.lut()),
                    new CompressedTensor(c.shape(), c.settings(), c.indices(), BitPacking.packCodes(codes, 2), c.lut()))) {
                Path file = write(Map.of(), Map.of("t", bad));
                UpdateFormatException e = assertThrows(UpdateFormatException.class,
                        () -> UpdateFile.read(file, codec, shapes));
                assertTrue(e.getMessage().contains("non-zero bits after its last index or code"), e.getMessage());
            }
        }
    }

    @Test
    void otherSettings() throws Exception {
        refused("this network uses", c -> new CompressedTensor(c.shape(),
                new CodecSettings(64, 64, 32, 2, 6), c.indices(), c.codes(), c.lut()));
    }

    @Test
    void missingOrUnknownParameters() throws Exception {
        try (PointerScope scope = new PointerScope()) {
            Map<String, CompressedTensor> tensors = valid();
            tensors.remove("n");
            refused("parameter n is missing", write(Map.of(), tensors));
            tensors = valid();
            tensors.put("extra", tensors.get("n"));
            refused("unknown parameter extra", write(Map.of(), tensors));
        }
    }

    @Test
    void anOversizedHeaderIsRefusedUnread() throws Exception {
        try (PointerScope scope = new PointerScope()) {
            refused("an update of this model is at most", write(Map.of("note", "x".repeat(1 << 20)), valid()));
        }
    }

    @Test
    void notAnUpdate() throws Exception {
        Path garbage = dir.resolve("garbage.pth");
        Files.write(garbage, new byte[]{'P', 'K', 3, 4, 0, 0});
        refused("not a valid .pth", garbage);
        try (PointerScope scope = new PointerScope()) {
            Path other = dir.resolve("other.pth");
            TensorTrees.save(other, Map.of("format", "something-else", "version", 1L, "params", new PyOrderedDict()));
            refused("not a neuron-sparse-update file of version 1", other);
            Path impossible = dir.resolve("impossible.pth");
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("shape", List.of(64L));
            entry.put("chunk", List.of(0L, 64L));
            entry.put("topk", 64L);
            entry.put("value_bits", 2L);
            PyOrderedDict params = new PyOrderedDict();
            params.put("w", entry);
            params.put("n", entry);
            TensorTrees.save(impossible, Map.of("format", UpdateFile.FORMAT, "version", 1L, "params", params));
            refused("impossible settings", impossible);
        }
    }
}
