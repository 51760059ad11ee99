package neuron.engine.pth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import neuron.engine.testing.PythonTorch;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against the real thing: engine files in Python's torch.load, and torch.save files in the engine, bit-exact. */
@Slow
class PthInteropTest {
    private static final List<String> RECORD_ORDER_HEAD = List.of("data.pkl", ".format_version", ".storage_alignment",
            "byteorder");

    @TempDir
    Path dir;

    @BeforeEach
    void needsTorch() {
        PthPython.assumeTorch();
    }

    @Test
    void engineFileWithEveryValueKindLoadsInTorchBitExact() throws IOException {
        PthSamples.Sample sample = PthSamples.everyKind(true);
        JsonNode dump = writeAndDump(sample, "every.pth");
        // torch 1.13's weights_only unpickler lacks BINFLOAT; pth_tool.py falls back only for exactly that
        assertTrue(List.of("ok", "operand 71").contains(dump.get("weights_only").asText()), dump.get("weights_only").asText());
        PthCanonical.assertSameTree(PthCanonical.of(sample.root(), sample.bytes()::get),
                PthCanonical.normalized(dump.get("tree")), "every.pth");
    }

    @Test
    void engineFileWithoutFloatsLoadsWithWeightsOnly() throws IOException {
        PthSamples.Sample sample = PthSamples.everyKind(false);
        JsonNode dump = writeAndDump(sample, "no_floats.pth");
        assertEquals("ok", dump.get("weights_only").asText());
        PthCanonical.assertSameTree(PthCanonical.of(sample.root(), sample.bytes()::get),
                PthCanonical.normalized(dump.get("tree")), "no_floats.pth");
    }

    /** Records in PyTorch's order under the file's prefix, stored, each data offset on a 64-byte boundary. */
    private JsonNode writeAndDump(PthSamples.Sample sample, String name) throws IOException {
        Path file = dir.resolve(name);
        PthWriter.write(file, sample.root(), sample.bytes()::get);
        JsonNode dump = PthCanonical.parse(PthPython.tool("dump", file.toString()));
        JsonNode records = dump.get("records");
        String prefix = PthWriter.archiveName(file) + "/";
        int storages = sample.bytes().size();
        assertEquals(RECORD_ORDER_HEAD.size() + storages + 2, records.size());
        for (int i = 0; i < records.size(); i++) {
            JsonNode record = records.get(i);
            String expected = i < RECORD_ORDER_HEAD.size() ? RECORD_ORDER_HEAD.get(i)
                    : i < RECORD_ORDER_HEAD.size() + storages ? "data/" + (i - RECORD_ORDER_HEAD.size())
                    : i == records.size() - 2 ? "version" : ".data/serialization_id";
            assertEquals(prefix + expected, record.get(0).asText());
            assertEquals(0, record.get(2).asLong() % 64, record + " is aligned");
            assertEquals(0, record.get(4).asInt(), record + " is stored");
        }
        return dump;
    }

    @Test
    void torchSaveFilesReadInTheEngineWithTheSameValues() throws IOException {
        PthPython.tool("fixtures", dir.toString());
        for (String name : List.of("model", "optim", "sched", "ckpt", "zoo")) {
            Path file = dir.resolve(name + ".pth");
            String expected = PthCanonical.normalized(PthCanonical.parse(Files.readString(dir.resolve(name + ".json"))));
            try (PthReader reader = PthReader.open(file)) {
                reader.verify();
                assertEquals(name, reader.archiveName());
                PthCanonical.assertSameTree(expected,
                        PthCanonical.of(reader.root(), s -> PthCanonical.whole(reader.data(s))), name);
            }
        }
        try (PthReader reader = PthReader.open(dir.resolve("zoo.pth"))) {
            Map<?, ?> keys = (Map<?, ?>) ((Map<?, ?>) reader.root()).get("keys");
            assertEquals(Arrays.asList(PyTuple.of(1L, "a"), PyTuple.of(), PyTuple.of(PyTuple.of(2L), null), 1.5, -0.0,
                    true, null, BigInteger.TWO.pow(70)), new ArrayList<>(keys.keySet()),
                    "tuple, float, bool and None keys, as Python made them");
            List<?> complex = (List<?>) ((Map<?, ?>) reader.root()).get("complex");
            assertEquals(DType.COMPLEX64, ((PthTensor) complex.get(0)).dtype());
            assertEquals(DType.COMPLEX128, ((PthTensor) complex.get(1)).dtype());
        }
        try (PthReader reader = PthReader.open(dir.resolve("ckpt.pth"))) {
            Map<?, ?> root = (Map<?, ?>) reader.root();
            assertEquals(3L, root.get("global_step"));
            assertTrue(root.get("model_state_dict") instanceof PyOrderedDict, "state_dict() is an OrderedDict");
            assertTrue(reader.recordNames().contains("data/10"), "enough storages for torch 1.13's sorted() order");
        }
    }

    /**
     * The dtypes PyTorch 2.x added (float8 kinds, uint16/32/64, complex32, bits) as its torch.save pickles them
     * (_rebuild_tensor_v3, torch.UntypedStorage, dtype globals): made by torch2_save.py with the standard library,
     * since torch 1.13 cannot make these tensors. Read with their dtypes, shapes and bytes.
     */
    @Test
    void torch2DtypesReadWithTheirBytes() throws Exception {
        PythonTorch.runFile(Path.of(PthInteropTest.class.getResource("torch2_save.py").toURI()), dir.toString());
        String expected = PthCanonical.normalized(PthCanonical.parse(Files.readString(dir.resolve("torch2.json"))));
        try (PthReader reader = PthReader.open(dir.resolve("torch2.pth"))) {
            reader.verify();
            PthCanonical.assertSameTree(expected,
                    PthCanonical.of(reader.root(), s -> PthCanonical.whole(reader.data(s))), "torch2.pth");
            assertEquals(DType.FLOAT8_E4M3FN, ((Map<?, ?>) reader.root()).get("a_dtype"), "a dtype as a value");
        }
    }
}
