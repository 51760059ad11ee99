package neuron.engine.miner;

import com.fasterxml.jackson.databind.ObjectMapper;
import neuron.engine.model.Tensors;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.pth.PyTuple;
import neuron.engine.testing.PythonTorch;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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

    /** Writes {@code tree} as {@code name}.json beside its tensors. */
    void write(String name, Object tree) throws IOException {
        JSON.writeValue(dir.resolve(name + ".json").toFile(), encode(tree));
    }

    /** Runs train_reference.py {@code mode} over this directory; returns its JSON answer on stdout's last line. */
    Map<?, ?> run(String mode) throws IOException, InterruptedException, URISyntaxException {
        Path script = Path.of(PythonExchange.class.getResource("train_reference.py").toURI());
        String out = PythonTorch.runFile(script, mode, dir.toString());
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
