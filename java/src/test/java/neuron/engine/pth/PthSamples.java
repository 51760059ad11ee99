package neuron.engine.pth;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Value trees for the tests: every value kind, with tensors of every dtype and their bytes. */
final class PthSamples {
    private PthSamples() {
    }

    /** A tree and the bytes of each of its storages (little-endian). */
    record Sample(Object root, Map<PthStorage, ByteBuffer> bytes) {
    }

    /** Every value kind the writer accepts; {@code withFloats=false} leaves out Python floats (torch 1.13 weights_only). */
    static Sample everyKind(boolean withFloats) {
        Random random = new Random(42);
        Map<PthStorage, ByteBuffer> bytes = new IdentityHashMap<>();
        Map<Object, Object> root = new LinkedHashMap<>();

        PyOrderedDict tensors = new PyOrderedDict();
        for (DType dtype : DType.values()) {
            if (dtype.legacy()) {   // the others torch 1.x cannot read; the engine never writes them
                tensors.put(dtype.pythonName(), tensor(dtype, new long[] {2, 3}, random, bytes));
            }
        }
        tensors.put("scalar", tensor(DType.FLOAT32, new long[0], random, bytes));
        tensors.put("empty", tensor(DType.INT64, new long[] {0, 4}, random, bytes));
        root.put("tensors", tensors);

        PthStorage shared = new PthStorage(DType.FLOAT64, 12);
        bytes.put(shared, randomBytes(shared, random));
        Map<Object, Object> views = new LinkedHashMap<>();
        views.put("whole", PthTensor.contiguous(shared, 4, 3));
        views.put("transposed", new PthTensor(shared, 0, new long[] {3, 4}, new long[] {1, 3}, false));
        views.put("row2", new PthTensor(shared, 6, new long[] {3}, new long[] {1}, false));
        views.put("every_other", new PthTensor(shared, 1, new long[] {6}, new long[] {2}, false));
        views.put("broadcast", new PthTensor(shared, 2, new long[] {5, 2}, new long[] {0, 1}, false));
        root.put("views", views);

        root.put("global_step", 1234L);
        root.put("ints", new ArrayList<>(List.of(0L, 1L, 255L, 256L, 65535L, 65536L, -1L, -256L,
                (long) Integer.MIN_VALUE, (long) Integer.MAX_VALUE, 1L << 31, -(1L << 31) - 1, Long.MAX_VALUE,
                Long.MIN_VALUE, 7)));
        root.put("huge", BigInteger.TWO.pow(100));
        root.put("negative_huge", BigInteger.TWO.pow(200).negate().add(BigInteger.ONE));
        if (withFloats) {
            root.put("floats", new ArrayList<>(List.of(0.1, -0.0, 1e-300, Double.MAX_VALUE, Double.NEGATIVE_INFINITY,
                    Double.NaN, 0.5f)));
        }
        root.put("strings", PyTuple.of("", "ascii", "\u00fcnic\u00f6de \u2603 \uD83D\uDE00", "x".repeat(300)));
        root.put("flags", PyTuple.of(true, false, null));
        Map<Object, Object> intKeys = new LinkedHashMap<>();
        intKeys.put(0L, "zero");
        intKeys.put(7, PyTuple.of());
        intKeys.put(-5L, PyTuple.of(1L));
        intKeys.put(BigInteger.TWO.pow(70), PyTuple.of(1L, 2L, 3L, 4L, 5L));
        root.put("int_keys", intKeys);
        Map<Object, Object> otherKeys = new LinkedHashMap<>();
        otherKeys.put(PyTuple.of(1L, "a"), "tuple");
        otherKeys.put(PyTuple.of(PyTuple.of(2L), null), "nested tuple");
        otherKeys.put(true, "bool");
        otherKeys.put(null, "None");
        if (withFloats) {
            otherKeys.put(1.5, "float");
        }
        root.put("other_keys", otherKeys);
        List<Object> nested = new ArrayList<>();
        nested.add(new ArrayList<>());
        nested.add(new LinkedHashMap<>());
        nested.add(new PyOrderedDict());
        nested.add(new ArrayList<>(List.of(new ArrayList<>(List.of(new ArrayList<>(List.of("deep")))))));
        root.put("nested", nested);
        List<Object> many = new ArrayList<>();
        for (long i = 0; i < 2500; i++) {
            many.add(i);
        }
        root.put("batched", many);
        return new Sample(root, bytes);
    }

    static PthTensor tensor(DType dtype, long[] shape, Random random, Map<PthStorage, ByteBuffer> bytes) {
        long numel = 1;
        for (long d : shape) {
            numel *= d;
        }
        PthStorage storage = new PthStorage(dtype, numel);
        bytes.put(storage, randomBytes(storage, random));
        return PthTensor.contiguous(storage, shape);
    }

    /** Random bytes; bools get 0 or 1 (torch reads other bytes as True but prints them back as 1). */
    static ByteBuffer randomBytes(PthStorage storage, Random random) {
        byte[] data = new byte[(int) storage.nbytes()];
        random.nextBytes(data);
        if (storage.dtype() == DType.BOOL) {
            for (int i = 0; i < data.length; i++) {
                data[i] &= 1;
            }
        }
        return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer();
    }
}
