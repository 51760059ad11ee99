package neuron.engine.miner;

import neuron.engine.model.Tensors;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.pth.PyTuple;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** Test helpers over state trees: a deep copy standing in for save + load, and a bit-exact comparison. */
public final class TrainTrees {
    private TrainTrees() {
    }

    /** Copies every tensor leaf to a fresh CPU tensor, as a checkpoint written and read back would. */
    public static Object deepCopy(Object value) {
        if (value instanceof Tensor t) {
            return t.cpu().clone();
        }
        if (value instanceof PyOrderedDict dict) {
            PyOrderedDict copy = new PyOrderedDict();
            dict.forEach((k, v) -> copy.put(k, deepCopy(v)));
            return copy;
        }
        if (value instanceof Map<?, ?> map) {
            Map<Object, Object> copy = new LinkedHashMap<>();
            map.forEach((k, v) -> copy.put(k, deepCopy(v)));
            return copy;
        }
        if (value instanceof PyTuple tuple) {
            return new PyTuple(tuple.items().stream().map(TrainTrees::deepCopy).toList());
        }
        if (value instanceof List<?> list) {
            List<Object> copy = new ArrayList<>();
            list.forEach(v -> copy.add(deepCopy(v)));
            return copy;
        }
        return value;
    }

    /** Same structure, key order, types and values; tensors equal in dtype, shape and raw bytes. */
    public static void assertBitIdentical(Object expected, Object actual, String path) {
        if (expected instanceof Tensor e) {
            Tensor a = assertInstanceOf(Tensor.class, actual, path);
            assertEquals(e.scalar_type().intern(), a.scalar_type().intern(), path + " dtype");
            assertArrayEquals(Tensors.shape(e), Tensors.shape(a), path + " shape");
            assertArrayEquals(rawBytes(e), rawBytes(a), path + " bytes");
        } else if (expected instanceof Map<?, ?> e) {
            Map<?, ?> a = assertInstanceOf(Map.class, actual, path);
            assertEquals(e.getClass(), a.getClass(), path + " map type");
            assertEquals(List.copyOf(e.keySet()), List.copyOf(a.keySet()), path + " keys");
            e.forEach((k, v) -> assertBitIdentical(v, a.get(k), path + "/" + k));
        } else if (expected instanceof PyTuple e) {
            assertBitIdentical(e.items(), assertInstanceOf(PyTuple.class, actual, path).items(), path);
        } else if (expected instanceof List<?> e) {
            List<?> a = assertInstanceOf(List.class, actual, path);
            assertEquals(e.size(), a.size(), path + " length");
            for (int i = 0; i < e.size(); i++) {
                assertBitIdentical(e.get(i), a.get(i), path + "[" + i + "]");
            }
        } else {
            assertEquals(expected, actual, path);   // Double.equals compares bits
        }
    }

    /**
     * Compares each checkpoint file left ({@code ckpt} and its backups up to {@code generations}) with the state
     * {@code expected} holds for the file's {@code key} value, bit for bit; returns how many files there were.
     */
    public static int assertFilesMatch(Path ckpt, int generations, String key, Map<Long, Object> expected)
            throws IOException {
        int compared = 0;
        for (int generation = 0; generation <= generations; generation++) {
            Path file = generation == 0 ? ckpt : ckpt.resolveSibling(ckpt.getFileName() + "." + generation);
            if (Files.exists(file)) {
                Map<?, ?> tree = TensorTrees.load(file, key);
                long at = ((Number) tree.get(key)).longValue();
                assertBitIdentical(expected.get(at), tree, key + " " + at);
                compared++;
            }
        }
        return compared;
    }

    static byte[] rawBytes(Tensor t) {
        Tensor contiguous = t.cpu().contiguous();
        byte[] bytes = new byte[Math.toIntExact(contiguous.nbytes())];
        new BytePointer(contiguous.data_ptr()).capacity(bytes.length).get(bytes);
        return bytes;
    }

    static int[] bits(float[] values) {
        return Arrays.stream(toDoubles(values)).mapToInt(d -> Float.floatToRawIntBits((float) d)).toArray();
    }

    private static double[] toDoubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
