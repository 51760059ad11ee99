package neuron.engine.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.pth.PyTuple;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Hands a state tree to Debian's python3-torch without the pth package: tensors as raw little-endian files,
 * the rest as JSON that keeps Python's types ({"dict": [[key, value]...]} keeps int keys and order,
 * {"tuple": [...]}, {"tensor": file, "dtype", "shape"}). train_reference.py decodes it.
 */
final class PythonExchange {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Path dir;
    private int tensorFiles;

    PythonExchange(Path dir) {
        this.dir = dir;
    }

    /** The interpreter with torch, or a skipped test saying why not. */
    static String python() throws IOException, InterruptedException {
        String python = System.getProperty("neuron.python", "/usr/bin/python3");
        Process probe = new ProcessBuilder(python, "-c", "import torch").redirectErrorStream(true).start();
        boolean done = probe.waitFor(2, TimeUnit.MINUTES);
        assumeTrue(done && probe.exitValue() == 0, python + " cannot import torch (install python3-torch): "
                + new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        return python;
    }

    /** Writes {@code tree} as {@code name}.json beside its tensors. */
    void write(String name, Object tree) throws IOException {
        JSON.writeValue(dir.resolve(name + ".json").toFile(), encode(tree));
    }

    /** Runs train_reference.py {@code mode} over this directory; returns its JSON answer on stdout's last line. */
    Map<?, ?> run(String mode) throws IOException, InterruptedException, URISyntaxException {
        Path script = Path.of(PythonExchange.class.getResource("train_reference.py").toURI());
        Process p = new ProcessBuilder(python(), script.toString(), mode, dir.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "python timed out");
        assertEquals(0, p.exitValue(), "python failed:\n" + out);
        String[] lines = out.strip().split("\n");
        return JSON.readValue(lines[lines.length - 1], Map.class);
    }

    private Object encode(Object value) throws IOException {
        if (value instanceof Tensor t) {
            String file = "t" + (tensorFiles++) + ".bin";
            Files.write(dir.resolve(file), TrainTrees.rawBytes(t));
            Map<String, Object> node = new LinkedHashMap<>();
            node.put("tensor", file);
            node.put("dtype", t.scalar_type().intern().name());
            node.put("shape", Tensors.shape(t));
            return node;
        }
        if (value instanceof Map<?, ?> map) {
            List<Object> pairs = new ArrayList<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                pairs.add(Arrays.asList(e.getKey(), encode(e.getValue())));
            }
            return Map.of(value instanceof PyOrderedDict ? "ordered_dict" : "dict", pairs);
        }
        if (value instanceof PyTuple tuple) {
            return Map.of("tuple", encode(tuple.items()));
        }
        if (value instanceof List<?> list) {
            List<Object> items = new ArrayList<>();
            for (Object item : list) {
                items.add(encode(item));
            }
            return items;
        }
        return value;
    }
}
