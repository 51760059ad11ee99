package neuron.engine.compress;

import neuron.engine.pth.PthReader;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The sparse update as a {@code torch.save} file ({@code docs/updates.md}), which {@code torch.load(weights_only=True)}
 * reads even on PyTorch 1.13 (it holds no Python float):
 * <pre>
 * {'format': 'neuron-sparse-update', 'version': 1, ...header fields...,
 *  'params': OrderedDict(name -> {'shape': [ints], 'chunk': [rows, cols], 'topk': int, 'value_bits': int,
 *                                 'indices': uint8 [..], 'codes': uint8 [..], 'lut': float32 [2^value_bits]})}
 * </pre>
 * Reading refuses, with one reason, anything that is not exactly such a file for the expected parameters and
 * settings; the file's size is checked before any of it is parsed.
 */
public final class UpdateFile {
    public static final String FORMAT = "neuron-sparse-update";
    public static final long VERSION = 1;
    private static final Set<String> RESERVED = Set.of("format", "version", "params");
    /** Room for the archive's records and the pickle: fixed, and per tensor (three storages and its dict). */
    private static final long OVERHEAD = 64 << 10;
    private static final long OVERHEAD_PER_TENSOR = 2048;

    private UpdateFile() {
    }

    /** Writes {@code tensors} under {@code header} (integer and string fields; not format, version or params). */
    public static void write(Path file, Map<String, ?> header, Map<String, CompressedTensor> tensors) throws IOException {
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("format", FORMAT);
        tree.put("version", VERSION);
        header.forEach((key, value) -> {
            if (RESERVED.contains(key) || !(value instanceof Long || value instanceof String)) {
                throw new IllegalArgumentException("header field " + key + " must be an integer or a string and not "
                        + RESERVED);
            }
            tree.put(key, value);
        });
        PyOrderedDict params = new PyOrderedDict();
        tensors.forEach((name, c) -> {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("shape", longs(c.shape()));
            entry.put("chunk", List.of((long) c.settings().chunkRows(), (long) c.settings().chunkCols()));
            entry.put("topk", (long) c.settings().topK());
            entry.put("value_bits", (long) c.settings().valueBits());
            entry.put("indices", c.indices());
            entry.put("codes", c.codes());
            entry.put("lut", c.lut());
            params.put(name, entry);
        });
        tree.put("params", params);
        TensorTrees.save(file, tree);
    }

    /** The largest file an update of these shapes can be: larger ones are refused unread. */
    public static long maxBytes(Map<String, long[]> shapes, CodecSettings settings) {
        long total = OVERHEAD;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long kept = ChunkGrid.of(e.getValue(), settings).kept();
            total += BitPacking.indexBytes(kept) + BitPacking.codeBytes(kept, settings.valueBits())
                    + (long) settings.levels() * Float.BYTES + OVERHEAD_PER_TENSOR + 4L * e.getKey().length();
        }
        return total;
    }

    /**
     * Reads {@code file} as an update of exactly the parameters {@code shapes} (in any order), made with the
     * codec's settings; every tensor is {@link SparseCodec#check checked}.
     */
    public static SparseUpdate read(Path file, SparseCodec codec, Map<String, long[]> shapes) throws UpdateFormatException {
        long limit = maxBytes(shapes, codec.settings());
        try {
            long size = Files.size(file);
            if (size > limit) {
                throw new UpdateFormatException("the file is " + size + " bytes; an update of this model is at most "
                        + limit);
            }
        } catch (IOException e) {
            throw new UpdateFormatException("cannot read it: " + e.getMessage(), e);
        }
        Map<?, ?> root;
        try (PthReader reader = PthReader.open(file)) {
            if (!(reader.root() instanceof Map<?, ?> tree)) {
                throw new UpdateFormatException("not a dict");
            }
            root = (Map<?, ?>) TensorTrees.materialize(tree, reader);
        } catch (IOException | RuntimeException e) {
            throw new UpdateFormatException("not a valid .pth: " + e.getMessage(), e);
        }
        if (!FORMAT.equals(root.get("format")) || !Long.valueOf(VERSION).equals(root.get("version"))) {
            throw new UpdateFormatException("not a " + FORMAT + " file of version " + VERSION + " (format "
                    + root.get("format") + ", version " + root.get("version") + ")");
        }
        Map<String, Object> header = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : root.entrySet()) {
            if (!(e.getKey() instanceof String key) || !(e.getValue() instanceof Long || e.getValue() instanceof String
                    || RESERVED.contains(key))) {
                throw new UpdateFormatException("header field " + e.getKey() + " is not an integer or a string");
            }
            if (!RESERVED.contains(key)) {
                header.put(key, e.getValue());
            }
        }
        if (!(root.get("params") instanceof Map<?, ?> params)) {
            throw new UpdateFormatException("no 'params' dict");
        }
        for (Object name : params.keySet()) {
            if (!shapes.containsKey(name)) {
                throw new UpdateFormatException("unknown parameter " + name);
            }
        }
        Map<String, CompressedTensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            if (!params.containsKey(e.getKey())) {
                throw new UpdateFormatException("parameter " + e.getKey() + " is missing");
            }
            CompressedTensor c = tensor(e.getKey(), params.get(e.getKey()), codec.settings());
            codec.check(e.getKey(), c, e.getValue());
            tensors.put(e.getKey(), c);
        }
        return new SparseUpdate(header, tensors);
    }

    private static CompressedTensor tensor(String name, Object node, CodecSettings expected) throws UpdateFormatException {
        if (!(node instanceof Map<?, ?> entry)) {
            throw new UpdateFormatException(name + " is not a dict");
        }
        long[] shape = integers(name, entry.get("shape"), "shape");
        long[] chunk = integers(name, entry.get("chunk"), "chunk");
        long topK = integer(name, entry.get("topk"), "topk");
        long bits = integer(name, entry.get("value_bits"), "value_bits");
        CodecSettings settings;
        try {
            if (chunk.length != 2) {
                throw new IllegalArgumentException("a chunk has two sides");
            }
            settings = new CodecSettings(Math.toIntExact(chunk[0]), Math.toIntExact(chunk[1]), Math.toIntExact(topK),
                    Math.toIntExact(bits), expected.rangeSigmas());
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new UpdateFormatException(name + " has impossible settings: " + e.getMessage());
        }
        return new CompressedTensor(shape, settings, tensor(name, entry, "indices"), tensor(name, entry, "codes"),
                tensor(name, entry, "lut"));
    }

    private static Tensor tensor(String name, Map<?, ?> entry, String key) throws UpdateFormatException {
        if (!(entry.get(key) instanceof Tensor t)) {
            throw new UpdateFormatException(name + " has no tensor '" + key + "'");
        }
        return t;
    }

    private static long[] integers(String name, Object value, String key) throws UpdateFormatException {
        if (!(value instanceof List<?> list)) {
            throw new UpdateFormatException(name + " has no list '" + key + "'");
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = integer(name, list.get(i), key);
        }
        return out;
    }

    private static long integer(String name, Object value, String key) throws UpdateFormatException {
        if (!(value instanceof Long n)) {
            throw new UpdateFormatException(name + "'s " + key + " is not an integer");
        }
        return n;
    }

    private static List<Long> longs(long[] values) {
        List<Long> out = new ArrayList<>(values.length);
        for (long v : values) {
            out.add(v);
        }
        return out;
    }
}
