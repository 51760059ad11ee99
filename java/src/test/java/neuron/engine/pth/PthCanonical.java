package neuron.engine.pth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The canonical JSON form of a value tree that pth_tool.py prints for a Python object, so trees from both
 * sides compare with {@code equals}: ints as decimal strings, floats as big-endian IEEE hex, dict items as
 * [key, value] pairs in order, tensors with dtype, shape, stride, offset, storage number (first encounter)
 * and the hex of their elements in row-major order.
 */
final class PthCanonical {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    static final ObjectMapper MAPPER = new ObjectMapper();

    private final Function<PthStorage, ByteBuffer> bytesOf;
    private final Map<PthStorage, Integer> storageNumbers = new IdentityHashMap<>();

    private PthCanonical(Function<PthStorage, ByteBuffer> bytesOf) {
        this.bytesOf = bytesOf;
    }

    /** {@code bytesOf} gives a view of a storage's whole bytes. */
    static String of(Object root, Function<PthStorage, ByteBuffer> bytesOf) {
        return text(new PthCanonical(bytesOf).node(root));
    }

    /** The same compact text for Python's JSON (numbers parse back as the same node types). */
    static String normalized(JsonNode node) {
        return text(parse(text(node)));
    }

    private static String text(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(MAPPER.readTree(MAPPER.writeValueAsString(node)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Fails with the neighbourhood of the first difference rather than two whole trees. */
    static void assertSameTree(String expected, String actual, String what) {
        if (expected.equals(actual)) {
            return;
        }
        int at = 0;
        while (at < Math.min(expected.length(), actual.length()) && expected.charAt(at) == actual.charAt(at)) {
            at++;
        }
        int from = Math.max(0, at - 200);
        throw new AssertionError(what + ": trees differ at character " + at + "\n expected ..."
                + expected.substring(from, Math.min(expected.length(), at + 100)) + "\n actual   ..."
                + actual.substring(from, Math.min(actual.length(), at + 100)));
    }

    static JsonNode parse(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** All bytes of a small storage as one view. */
    static ByteBuffer whole(StorageData data) {
        try {
            return data.slice(0, (int) data.byteSize());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private JsonNode node(Object value) {
        if (value == null) {
            return JSON.nullNode();
        }
        if (value instanceof Boolean b) {
            return JSON.objectNode().put("bool", b);
        }
        if (value instanceof Long || value instanceof Integer || value instanceof BigInteger) {
            return JSON.objectNode().put("int", value.toString());
        }
        if (value instanceof Double || value instanceof Float) {
            long bits = Double.doubleToRawLongBits(((Number) value).doubleValue());
            return JSON.objectNode().put("float", String.format("%016x", bits));
        }
        if (value instanceof String s) {
            return JSON.objectNode().put("str", s);
        }
        if (value instanceof PyTuple tuple) {
            return items("tuple", tuple.items());
        }
        if (value instanceof List<?> list) {
            return items("list", list);
        }
        if (value instanceof Map<?, ?> map) {
            ArrayNode pairs = JSON.arrayNode();
            map.forEach((k, v) -> pairs.add(JSON.arrayNode().add(node(k)).add(node(v))));
            ObjectNode dict = JSON.objectNode();
            dict.set(value instanceof PyOrderedDict ? "odict" : "dict", pairs);
            return dict;
        }
        if (value instanceof PthTensor tensor) {
            return tensor(tensor);
        }
        if (value instanceof DType dtype) {
            return JSON.objectNode().put("dtype", dtype.pythonName());
        }
        throw new IllegalArgumentException("not a tree value: " + value.getClass());
    }

    private ObjectNode items(String kind, List<?> items) {
        ArrayNode array = JSON.arrayNode();
        items.forEach(item -> array.add(node(item)));
        ObjectNode node = JSON.objectNode();
        node.set(kind, array);
        return node;
    }

    private JsonNode tensor(PthTensor tensor) {
        ObjectNode t = JSON.objectNode();
        t.put("dtype", tensor.dtype().pythonName());
        ArrayNode shape = t.putArray("shape");
        ArrayNode stride = t.putArray("stride");
        for (int d = 0; d < tensor.dims(); d++) {
            shape.add(tensor.size(d));
            stride.add(tensor.stride(d));
        }
        t.put("offset", tensor.storageOffset());
        t.put("requires_grad", tensor.requiresGrad());
        t.put("storage", storageNumbers.computeIfAbsent(tensor.storage(), s -> storageNumbers.size()));
        t.put("bytes", HexFormat.of().formatHex(rowMajorBytes(tensor)));
        ObjectNode node = JSON.objectNode();
        node.set("tensor", t);
        return node;
    }

    /** The tensor's elements in row-major order, gathered through its strides. */
    private byte[] rowMajorBytes(PthTensor tensor) {
        ByteBuffer storage = bytesOf.apply(tensor.storage());
        int size = tensor.dtype().elementSize();
        byte[] out = new byte[Math.toIntExact(tensor.numel() * size)];
        long[] index = new long[tensor.dims()];
        for (int n = 0; n < tensor.numel(); n++) {
            long element = tensor.storageOffset();
            for (int d = 0; d < index.length; d++) {
                element += index[d] * tensor.stride(d);
            }
            storage.get(Math.toIntExact(element * size) + storage.position(), out, n * size, size);
            for (int d = index.length - 1; d >= 0; d--) {
                if (++index[d] < tensor.size(d)) {
                    break;
                }
                index[d] = 0;
            }
        }
        return out;
    }
}
