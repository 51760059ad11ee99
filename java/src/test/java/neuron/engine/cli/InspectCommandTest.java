package neuron.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import neuron.engine.pth.DType;
import neuron.engine.testing.PythonTorch;
import neuron.engine.pth.PthStorage;
import neuron.engine.pth.PthTensor;
import neuron.engine.pth.PthWriter;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.pth.PyTuple;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code neuron inspect} through the real command line, on files the engine writes and then damages. */
@Slow
class InspectCommandTest {
    @TempDir
    Path dir;
    private Path checkpoint;

    private static CliRun inspect(String... args) {
        List<String> all = new ArrayList<>(List.of("inspect"));
        all.addAll(List.of(args));
        return CliRun.of(all.toArray(String[]::new));
    }

    @BeforeEach
    void writeCheckpoint() throws IOException {
        PthStorage weight = new PthStorage(DType.FLOAT32, 12);
        PyOrderedDict model = new PyOrderedDict();
        model.put("fc.weight", PthTensor.contiguous(weight, 3, 4));
        model.put("fc.weight_t", new PthTensor(weight, 0, new long[] {4, 3}, new long[] {1, 4}, false));
        model.put("fc.steps", PthTensor.contiguous(new PthStorage(DType.INT64, 1)));
        Map<String, Object> group = new LinkedHashMap<>();
        group.put("lr", 0.00025);
        group.put("betas", PyTuple.of(0.9, 0.999));
        group.put("eps", 1e-8);
        group.put("params", new ArrayList<>(List.of(0L, 1L)));
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("global_step", 1234L);
        root.put("model_state_dict", model);
        root.put("optimizer_state_dict", Map.of("param_groups", List.of(group)));
        checkpoint = dir.resolve("ckpt.pth");
        PthWriter.write(checkpoint, root, storage -> ByteBuffer.allocate((int) storage.nbytes()));
    }

    @Test
    void printsTheTreeWithShapesScalarsAndTotalBytes() {
        CliRun run = inspect(checkpoint.toString(), "--verify");
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("archive 'ckpt', 8 records, 2 storages, 56 bytes of tensor data, every CRC-32 checked"),
                run.out());
        assertTrue(run.out().contains("\n  'global_step': 1234\n"), run.out());
        assertTrue(run.out().contains("\n    'fc.weight': tensor float32 [3, 4]\n"), run.out());
        assertTrue(run.out().contains("'fc.weight_t': tensor float32 [4, 3] view of storage 0 at offset 0, stride [1, 4]"),
                run.out());
        assertTrue(run.out().contains("'lr': 0.00025\n"), run.out());
        assertTrue(run.out().contains("'betas': (0.9, 0.999)\n"), run.out());
        assertTrue(run.out().contains("'eps': 1e-08\n"), run.out());
        assertTrue(run.out().contains("'params': [0, 1]\n"), run.out());
    }

    @Test
    void printsJson() throws IOException {
        CliRun run = inspect("--json", checkpoint.toString());
        assertEquals(0, run.status(), run.err());
        JsonNode json = new ObjectMapper().readTree(run.out());
        assertEquals(56, json.get("tensor_bytes").asLong());
        assertEquals(1234, json.at("/root/global_step").asLong());
        assertEquals("float32", json.at("/root/model_state_dict/fc.weight/tensor/dtype").asText());
        assertEquals("[4,3]", json.at("/root/model_state_dict/fc.weight_t/tensor/shape").toString());
    }

    @Test
    void jsonKeepsTuplesFromListsAndIntKeysFromStringKeys() throws IOException {
        Map<Object, Object> keys = new LinkedHashMap<>();
        keys.put(1L, "int");
        keys.put("1", "str");
        keys.put(PyTuple.of(1L, "a"), "tuple");
        keys.put(null, "None");
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("tuple", PyTuple.of(1L, 2L));
        root.put("list", new ArrayList<>(List.of(1L, 2L)));
        root.put("keys", keys);
        root.put("looks_like_a_wrapper", Map.of("tuple", 1L));
        root.put("floats", new ArrayList<>(List.of(Double.MIN_VALUE, 1e23, 1.0, Double.NaN)));
        root.put("dtype", DType.BFLOAT16);
        Path file = dir.resolve("types.pth");
        PthWriter.write(file, root, storage -> ByteBuffer.allocate(0));

        CliRun run = inspect("--json", file.toString());
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().contains("[ 5e-324, 1e+23, 1.0, {"), "floats spelled as Python's repr: " + run.out());
        JsonNode json = new ObjectMapper().readTree(run.out()).get("root");
        assertEquals("{\"tuple\":[1,2]}", json.get("tuple").toString());
        assertEquals("[1,2]", json.get("list").toString());
        assertEquals("{\"dict\":[[1,\"int\"],[\"1\",\"str\"],[{\"tuple\":[1,\"a\"]},\"tuple\"],[null,\"None\"]]}",
                json.get("keys").toString());
        assertEquals("{\"dict\":[[\"tuple\",1]]}", json.get("looks_like_a_wrapper").toString(),
                "a str-keyed dict that would read as a wrapper takes the pairs form");
        assertTrue(json.get("floats").get(2).isDouble() && json.get("floats").get(3).toString().equals("{\"float\":\"nan\"}"),
                json.get("floats").toString());
        assertEquals("{\"dtype\":\"bfloat16\"}", json.get("dtype").toString());

        CliRun text = inspect(file.toString());
        for (String line : List.of("\n  'tuple': (1, 2)\n", "\n  'list': [1, 2]\n", "\n    1: 'int'\n", "\n    '1': 'str'\n",
                "\n    (1, 'a'): 'tuple'\n", "\n    None: 'None'\n", "'floats': [5e-324, 1e+23, 1.0, nan]",
                "'dtype': torch.bfloat16")) {
            assertTrue(text.out().contains(line), line + " in\n" + text.out());
        }
    }

    /** A file torch.save wrote with complex tensors and tuple, float, bool and None keys, as Python prints them. */
    @Test
    void readsWhatPythonSavesWithComplexTensorsAndAnyKeys() throws Exception {
        PythonTorch.assumeAvailable();
        Path file = dir.resolve("python.pth");
        PythonTorch.run("""
                import sys, torch
                torch.save({(1, 'a'): 1, 1.5: [5e-324, 1e23, 0.1], None: (1,), True: torch.zeros(2, 3, dtype=torch.complex64),
                            'c128': torch.ones(4, dtype=torch.complex128), 7: 'seven'}, sys.argv[1])
                """, file.toString());
        CliRun text = inspect(file.toString());
        assertEquals(0, text.status(), text.err());
        assertTrue(text.out().contains("2 storages, 112 bytes of tensor data"), text.out());
        for (String line : List.of("\n  (1, 'a'): 1\n", "\n  1.5: [5e-324, 1e+23, 0.1]\n", "\n  None: (1,)\n",
                "\n  True: tensor complex64 [2, 3]\n", "\n  'c128': tensor complex128 [4]\n", "\n  7: 'seven'\n")) {
            assertTrue(text.out().contains(line), line + " in\n" + text.out());
        }
        CliRun json = inspect("--json", file.toString());
        JsonNode pairs = new ObjectMapper().readTree(json.out()).at("/root/dict");
        assertEquals("[{\"tuple\":[1,\"a\"]},1]", pairs.get(0).toString());
        assertEquals(1.5, pairs.get(1).get(0).asDouble());
        assertEquals("complex64", pairs.get(3).get(1).at("/tensor/dtype").asText());
        assertEquals(48, pairs.get(3).get(1).at("/tensor/nbytes").asLong());
        assertEquals("[7,\"seven\"]", pairs.get(5).toString());
    }

    @Test
    void damagedAndHostileFilesExitOneWithOneLineNamingTheFile() throws IOException {
        byte[] bytes = Files.readAllBytes(checkpoint);
        Path crc = dir.resolve("crc.pth");
        byte[] flipped = bytes.clone();
        flipped[find(bytes, "global_step") + 2] ^= 1;
        Files.write(crc, flipped);
        assertEquals(0, inspect(crc.toString()).status(), "torch.load does not check CRCs either");
        assertOneLineFailure(inspect(crc.toString(), "--verify"), crc, "CRC-32 mismatch in record data.pkl");

        Path hostile = dir.resolve("hostile.pth");
        byte[] renamed = bytes.clone();
        int at = find(bytes, "OrderedDict");
        renamed[at + 10] = 'x';
        Files.write(hostile, renamed);
        assertOneLineFailure(inspect(hostile.toString()), hostile, "global collections.OrderedDicx is not on the allow-list");

        Path truncated = dir.resolve("truncated.pth");
        Files.write(truncated, java.util.Arrays.copyOf(bytes, 700));
        assertOneLineFailure(inspect(truncated.toString()), truncated, "truncated");
    }

    private static void assertOneLineFailure(CliRun run, Path file, String reason) {
        assertEquals(1, run.status(), run.out() + run.err());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("neuron inspect: " + file + ": "), run.err());
        assertTrue(run.err().contains(reason), run.err());
    }

    @Test
    void badUsageAndUnusablePathsExitTwo() {
        assertEquals(2, inspect().status());
        assertEquals(2, inspect("--bogus", checkpoint.toString()).status());
        CliRun missing = inspect(dir.resolve("missing.pth").toString());
        assertEquals(2, missing.status());
        assertTrue(missing.err().contains("missing.pth: not a readable file"), missing.err());
        assertEquals(2, inspect(dir.toString()).status());
    }

    private static int find(byte[] haystack, String needle) {
        byte[] n = needle.getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + n.length <= haystack.length; i++) {
            for (int j = 0; j < n.length; j++) {
                if (haystack[i + j] != n[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("no " + needle);
    }
}
