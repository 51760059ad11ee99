package neuron.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import neuron.engine.pth.DType;
import neuron.engine.pth.PthStorage;
import neuron.engine.pth.PthTensor;
import neuron.engine.pth.PthWriter;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.pth.PyTuple;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code neuron inspect} through the real command line, on files the engine writes and then damages. */
class InspectCommandTest {
    @TempDir
    Path dir;
    private Path checkpoint;

    private record Run(int status, String out, String err) {
    }

    private static Run inspect(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        List<String> all = new ArrayList<>(List.of("inspect"));
        all.addAll(List.of(args));
        int status = cli.execute(all.toArray(String[]::new));
        return new Run(status, out.toString(), err.toString());
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
        Run run = inspect(checkpoint.toString(), "--verify");
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
        Run run = inspect("--json", checkpoint.toString());
        assertEquals(0, run.status(), run.err());
        JsonNode json = new ObjectMapper().readTree(run.out());
        assertEquals(56, json.get("tensor_bytes").asLong());
        assertEquals(1234, json.at("/root/global_step").asLong());
        assertEquals("float32", json.at("/root/model_state_dict/fc.weight/tensor/dtype").asText());
        assertEquals("[4,3]", json.at("/root/model_state_dict/fc.weight_t/tensor/shape").toString());
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

    private static void assertOneLineFailure(Run run, Path file, String reason) {
        assertEquals(1, run.status(), run.out() + run.err());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("neuron inspect: " + file + ": "), run.err());
        assertTrue(run.err().contains(reason), run.err());
    }

    @Test
    void badUsageAndUnusablePathsExitTwo() {
        assertEquals(2, inspect().status());
        assertEquals(2, inspect("--bogus", checkpoint.toString()).status());
        Run missing = inspect(dir.resolve("missing.pth").toString());
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
