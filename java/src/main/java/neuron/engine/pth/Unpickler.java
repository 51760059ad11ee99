package neuron.engine.pth;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An allow-list unpickler for torch.save's {@code data.pkl}. It knows a fixed set of opcodes (a subset of
 * {@code torch.load(weights_only=True)}'s whitelist) and resolves GLOBAL only to a fixed table:
 * {@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2} and {@code _v3},
 * {@code torch._utils._rebuild_parameter}, the {@code torch.<X>Storage} classes, {@code torch.UntypedStorage} and
 * the dtypes of {@link DType} (a dtype global becomes the {@link DType} itself, a value like any other). Nothing is
 * ever looked up, loaded or instantiated by name. Every length is checked against the bytes left before anything
 * is allocated, and at most {@link #MAX_VALUES} values are made; the finished tree is walked once to bound its
 * depth and size (memo references can make cycles or exponential DAGs).
 */
final class Unpickler {
    static final int MAX_DEPTH = 1000;
    /**
     * The most values one pickle may make. A checkpoint's tree is small: a 70 B-parameter LLaMA with its AdamW state
     * pickles to about 70 k values (23 per tensor), as everything big is a tensor. A hostile or absurd pickle (one list of 52 M
     * ints in 100 MB) is refused at this count instead of taking gigabytes of heap and a minute of collection.
     */
    static final int MAX_VALUES = 1 << 21;
    private static final int MAX_GLOBAL_LINE = 256;

    /** Looks up (and checks) the storage record of a persistent id. */
    interface StorageResolver {
        PthStorage resolve(String key, DType dtype, long numel, String location) throws PthFormatException;
    }

    /** A resolved GLOBAL: never part of a finished tree. {@code storageType} is set for the legacy storage classes. */
    private record Global(String qualifiedName, DType storageType) {
    }

    /** A {@code torch.UntypedStorage} persistent id: its dtype comes with the {@code _rebuild_tensor_v3} call. */
    private record UntypedStorage(String key, String location, long nbytes) {
    }

    private static final Global ORDERED_DICT = new Global("collections.OrderedDict", null);
    private static final Global REBUILD_TENSOR_V2 = new Global("torch._utils._rebuild_tensor_v2", null);
    private static final Global REBUILD_TENSOR_V3 = new Global("torch._utils._rebuild_tensor_v3", null);
    private static final Global REBUILD_PARAMETER = new Global("torch._utils._rebuild_parameter", null);
    private static final Global UNTYPED_STORAGE = new Global("torch.UntypedStorage", null);

    private final Path file;
    private final ByteBuffer in;
    private final StorageResolver storages;
    private final List<Object> stack = new ArrayList<>();
    private int[] marks = new int[16];
    private int markCount;
    private final Map<Integer, Object> memo = new HashMap<>();
    private int values;

    private Unpickler(Path file, ByteBuffer in, StorageResolver storages) {
        this.file = file;
        this.in = in;
        this.storages = storages;
    }

    static Object load(Path file, ByteBuffer pickle, StorageResolver storages) throws PthFormatException {
        Unpickler unpickler = new Unpickler(file, pickle.duplicate().order(ByteOrder.LITTLE_ENDIAN), storages);
        Object root = unpickler.run();
        new TreeCheck(unpickler, pickle.remaining()).visit(root, 0);
        return root;
    }

    private Object run() throws PthFormatException {
        while (true) {
            int at = in.position();
            int opcode = u8();
            switch (opcode) {
                case 0x80 -> u8(); // PROTO: torch writes 2; other values only change which opcodes may follow
                case '.' -> {
                    return stop();
                }
                case 'c' -> push(global());
                case 'R' -> reduce();
                case 'b' -> build();
                case 'a' -> append();
                case 'e' -> appends();
                case 's' -> setItem();
                case 'u' -> setItems();
                case '(' -> mark();
                case 't' -> push(new PyTuple(popToMark()));
                case ')' -> push(PyTuple.of());
                case 0x85 -> push(tupleOfTop(1));
                case 0x86 -> push(tupleOfTop(2));
                case 0x87 -> push(tupleOfTop(3));
                case ']' -> push(new ArrayList<>());
                case '}' -> push(new LinkedHashMap<>());
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) in(4).getInt());
                case 'K' -> push((long) u8());
                case 'M' -> push((long) (in(2).getShort() & 0xFFFF));
                case 0x8a -> push(long1());
                case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in(8).getLong())));
                case 'X' -> push(string(in(4).getInt() & 0xFFFFFFFFL, StandardCharsets.UTF_8));
                case 'U' -> push(string(u8(), StandardCharsets.ISO_8859_1));
                case 'Q' -> push(persistentLoad(pop()));
                case 'h' -> push(memoGet(u8()));
                case 'j' -> push(memoGet(in(4).getInt()));
                case 'q' -> memoPut(u8());
                case 'r' -> memoPut(in(4).getInt());
                default -> throw fail("opcode 0x" + Integer.toHexString(opcode) + " at offset " + at
                        + " is not on the allow-list");
            }
        }
    }

    private Object stop() throws PthFormatException {
        if (markCount != 0 || stack.size() != 1) {
            throw fail("STOP with " + stack.size() + " values and " + markCount + " marks on the stack");
        }
        if (in.hasRemaining()) {
            throw fail(in.remaining() + " bytes after STOP");
        }
        return stack.get(0);
    }

    /** A {@link Global}, or for {@code torch.<dtype>} the {@link DType}. */
    private Object global() throws PthFormatException {
        String module = line();
        String name = line();
        String qualified = module + "." + name;
        for (Global known : List.of(ORDERED_DICT, REBUILD_TENSOR_V2, REBUILD_TENSOR_V3, REBUILD_PARAMETER,
                UNTYPED_STORAGE)) {
            if (known.qualifiedName().equals(qualified)) {
                return known;
            }
        }
        if (module.equals("torch")) {
            DType storageType = DType.ofStorageClass(name);
            if (storageType != null) {
                return new Global(qualified, storageType);
            }
            DType dtype = DType.ofPythonName(name);
            if (dtype != null) {
                return dtype;
            }
        }
        throw fail("global " + printable(qualified) + " is not on the allow-list");
    }

    private void reduce() throws PthFormatException {
        Object args = pop();
        Object callable = pop();
        if (!(args instanceof PyTuple tuple)) {
            throw fail("REDUCE arguments are not a tuple");
        }
        List<Object> a = tuple.items();
        if (callable == ORDERED_DICT && a.isEmpty()) {
            push(new PyOrderedDict());
        } else if (callable == REBUILD_TENSOR_V2 && (a.size() == 6 || a.size() == 7)) {
            push(rebuildTensor(a));
        } else if (callable == REBUILD_TENSOR_V3 && (a.size() == 7 || a.size() == 8)) {
            push(rebuildTensorV3(a));
        } else if (callable == REBUILD_PARAMETER && a.size() == 3 && a.get(0) instanceof PthTensor data
                && a.get(1) instanceof Boolean requiresGrad && isEmptyOrderedDict(a.get(2))) {
            push(new PthTensor(data.storage(), data.storageOffset(), data.shape(), data.stride(), requiresGrad));
        } else {
            throw fail("unsupported call " + describe(callable) + " with " + a.size() + " arguments");
        }
    }

    /** {@code _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private PthTensor rebuildTensor(List<Object> a) throws PthFormatException {
        if (!(a.get(0) instanceof PthStorage storage)
                || a.size() == 7 && !(a.get(6) instanceof Map<?, ?> metadata && metadata.isEmpty())) {
            throw fail("malformed _rebuild_tensor_v2 arguments");
        }
        return tensor(storage, a, "_rebuild_tensor_v2");
    }

    /**
     * {@code _rebuild_tensor_v3(untyped_storage, offset, size, stride, requires_grad, backward_hooks, dtype[,
     * metadata])}: the dtype gives the storage its element type, so the storage is resolved only now.
     */
    private PthTensor rebuildTensorV3(List<Object> a) throws PthFormatException {
        if (!(a.get(0) instanceof UntypedStorage untyped) || !(a.get(6) instanceof DType dtype)
                || a.size() == 8 && !(a.get(7) instanceof Map<?, ?> metadata && metadata.isEmpty())) {
            throw fail("malformed _rebuild_tensor_v3 arguments");
        }
        if (untyped.nbytes() % dtype.elementSize() != 0) {
            throw fail("untyped storage " + printable(untyped.key()) + " of " + untyped.nbytes() + " bytes does not hold "
                    + dtype.pythonName() + " elements");
        }
        PthStorage storage = storages.resolve(untyped.key(), dtype, untyped.nbytes() / dtype.elementSize(),
                untyped.location());
        return tensor(storage, a, "_rebuild_tensor_v3");
    }

    /** The view that arguments 1..5 (offset, size, stride, requires_grad, hooks) describe. */
    private PthTensor tensor(PthStorage storage, List<Object> a, String call) throws PthFormatException {
        if (!(a.get(1) instanceof Long offset) || !(a.get(2) instanceof PyTuple size)
                || !(a.get(3) instanceof PyTuple stride) || !(a.get(4) instanceof Boolean requiresGrad)
                || !isEmptyOrderedDict(a.get(5))) {
            throw fail("malformed " + call + " arguments");
        }
        long[] shape = longs(size, "size");
        long[] strides = longs(stride, "stride");
        try {
            return new PthTensor(storage, offset, shape, strides, requiresGrad);
        } catch (IllegalArgumentException e) {
            throw fail("bad tensor: " + e.getMessage());
        }
    }

    private long[] longs(PyTuple tuple, String what) throws PthFormatException {
        List<Object> items = tuple.items();
        if (items.size() > PthTensor.MAX_DIMS) {
            throw fail("tensor " + what + " has " + items.size() + " dims");
        }
        long[] values = new long[items.size()];
        for (int i = 0; i < values.length; i++) {
            if (!(items.get(i) instanceof Long v)) {
                throw fail("tensor " + what + " holds a non-integer");
            }
            values[i] = v;
        }
        return values;
    }

    private static boolean isEmptyOrderedDict(Object value) {
        return value instanceof PyOrderedDict dict && dict.isEmpty();
    }

    /** BUILD is only state_dict()'s {@code OrderedDict.__dict__ = {'_metadata': ...}}: accepted, not kept. */
    private void build() throws PthFormatException {
        Object state = pop();
        Object target = peek();
        if (!(target instanceof PyOrderedDict) || !(state instanceof Map<?, ?>) || state instanceof PyOrderedDict) {
            throw fail("BUILD is only allowed with a dict state on an OrderedDict");
        }
    }

    /** ("storage", torch.XStorage, key, location, numel), or ("storage", torch.UntypedStorage, key, location, nbytes) */
    private Object persistentLoad(Object pid) throws PthFormatException {
        if (!(pid instanceof PyTuple tuple) || tuple.items().size() != 5) {
            throw fail("persistent id is not a 5-tuple");
        }
        List<Object> p = tuple.items();
        if (!"storage".equals(p.get(0)) || !(p.get(1) instanceof Global type)
                || type.storageType() == null && type != UNTYPED_STORAGE
                || !(p.get(2) instanceof String key) || !(p.get(3) instanceof String location)
                || !(p.get(4) instanceof Long numel) || numel < 0) {
            throw fail("malformed storage persistent id");
        }
        if (type == UNTYPED_STORAGE) {
            return new UntypedStorage(key, location, numel);
        }
        return storages.resolve(key, type.storageType(), numel, location);
    }

    private void append() throws PthFormatException {
        Object value = pop();
        listOnTop().add(value);
    }

    private void appends() throws PthFormatException {
        List<Object> items = popToMark();
        listOnTop().addAll(items);
    }

    private List<Object> listOnTop() throws PthFormatException {
        if (!(peek() instanceof ArrayList<?>)) {
            throw fail("APPEND to a " + describe(peek()));
        }
        @SuppressWarnings("unchecked")
        List<Object> list = (List<Object>) peek();
        return list;
    }

    private void setItem() throws PthFormatException {
        Object value = pop();
        Object key = pop();
        dictOnTop().put(checkedKey(key), value);
    }

    private void setItems() throws PthFormatException {
        List<Object> items = popToMark();
        if (items.size() % 2 != 0) {
            throw fail("SETITEMS with an odd number of values");
        }
        Map<Object, Object> dict = dictOnTop();
        for (int i = 0; i < items.size(); i += 2) {
            dict.put(checkedKey(items.get(i)), items.get(i + 1));
        }
    }

    private Map<Object, Object> dictOnTop() throws PthFormatException {
        if (!(peek() instanceof LinkedHashMap<?, ?>)) {
            throw fail("SETITEM on a " + describe(peek()));
        }
        @SuppressWarnings("unchecked")
        Map<Object, Object> dict = (Map<Object, Object>) peek();
        return dict;
    }

    /**
     * Keys are what Python can hash and torch.save writes: str, int, float, bool, None, a dtype, and tuples of
     * those. Tuples are immutable and built bottom-up, so a key can never contain itself; its nesting is bounded
     * like the tree's. Lists and dicts are unhashable in Python too.
     */
    private Object checkedKey(Object key) throws PthFormatException {
        checkKey(key, 0);
        return key;
    }

    private void checkKey(Object key, int depth) throws PthFormatException {
        if (depth > MAX_DEPTH) {
            throw fail("dict key nested deeper than " + MAX_DEPTH);
        }
        if (key instanceof PyTuple tuple) {
            for (Object item : tuple.items()) {
                checkKey(item, depth + 1);
            }
        } else if (!(key == null || key instanceof String || key instanceof Long || key instanceof BigInteger
                || key instanceof Double || key instanceof Boolean || key instanceof DType)) {
            throw fail("dict key of type " + describe(key) + " is not supported");
        }
    }

    private void mark() {
        if (markCount == marks.length) {
            marks = Arrays.copyOf(marks, marks.length * 2);
        }
        marks[markCount++] = stack.size();
    }

    private List<Object> popToMark() throws PthFormatException {
        if (markCount == 0) {
            throw fail("no MARK on the stack");
        }
        int from = marks[--markCount];
        List<Object> top = stack.subList(from, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    private PyTuple tupleOfTop(int n) throws PthFormatException {
        Object[] items = new Object[n];
        for (int i = n - 1; i >= 0; i--) {
            items[i] = pop();
        }
        return PyTuple.of(items);
    }

    private Object memoGet(int index) throws PthFormatException {
        Object value = memo.get(index);
        if (value == null && !memo.containsKey(index)) {
            throw fail("memo slot " + Integer.toUnsignedString(index) + " is empty");
        }
        return value;
    }

    private void memoPut(int index) throws PthFormatException {
        memo.put(index, peek());
    }

    private void push(Object value) throws PthFormatException {
        if (++values > MAX_VALUES) {
            throw fail("more than " + MAX_VALUES + " values; a checkpoint keeps its bulk in tensors");
        }
        stack.add(value);
    }

    /** Pops one value, never across the innermost MARK. */
    private Object pop() throws PthFormatException {
        int floor = markCount == 0 ? 0 : marks[markCount - 1];
        if (stack.size() <= floor) {
            throw fail("stack underflow");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() throws PthFormatException {
        int floor = markCount == 0 ? 0 : marks[markCount - 1];
        if (stack.size() <= floor) {
            throw fail("stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    private int u8() throws PthFormatException {
        return in(1).get() & 0xFF;
    }

    /** The input, after checking that {@code n} more bytes are there. */
    private ByteBuffer in(int n) throws PthFormatException {
        if (in.remaining() < n) {
            throw fail("data.pkl is truncated");
        }
        return in;
    }

    private Object long1() throws PthFormatException {
        int n = u8();
        byte[] bigEndian = new byte[n];
        for (int i = n - 1; i >= 0; i--) {
            bigEndian[i] = (byte) u8();
        }
        if (n == 0) {
            return 0L;
        }
        BigInteger value = new BigInteger(bigEndian);
        return value.bitLength() < 64 ? (Object) value.longValue() : value;
    }

    private String string(long length, Charset charset) throws PthFormatException {
        if (length > in.remaining()) {
            throw fail("string of " + length + " bytes runs past the end of data.pkl");
        }
        byte[] bytes = new byte[(int) length];
        in.get(bytes);
        return new String(bytes, charset);
    }

    /** One newline-terminated ASCII line of a GLOBAL, bounded in length. */
    private String line() throws PthFormatException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            int c = u8();
            if (c == '\n') {
                return sb.toString();
            }
            if (sb.length() == MAX_GLOBAL_LINE) {
                throw fail("GLOBAL name longer than " + MAX_GLOBAL_LINE + " bytes");
            }
            sb.append((char) c);
        }
    }

    private static String printable(String s) {
        return s.replaceAll("[^\\x20-\\x7e]", "?");
    }

    private static String describe(Object value) {
        if (value instanceof Global g) {
            return printable(g.qualifiedName());
        }
        if (value instanceof UntypedStorage) {
            return "torch.UntypedStorage";
        }
        if (value instanceof DType dtype) {
            return "torch." + dtype.pythonName();
        }
        return value == null ? "None" : value.getClass().getSimpleName();
    }

    PthFormatException fail(String reason) {
        return new PthFormatException(file, "data.pkl: " + reason);
    }

    /**
     * Walks the finished tree once: only value types, depth at most {@link #MAX_DEPTH} (which also stops cycles),
     * and at most a budget of nodes proportional to the pickle, so shared memo references cannot expand it
     * exponentially for the consumers that walk it.
     */
    private static final class TreeCheck {
        private final Unpickler unpickler;
        private long budget;

        TreeCheck(Unpickler unpickler, int pickleBytes) {
            this.unpickler = unpickler;
            this.budget = 16L * pickleBytes + 4096;
        }

        void visit(Object value, int depth) throws PthFormatException {
            if (depth > MAX_DEPTH) {
                throw unpickler.fail("values nested deeper than " + MAX_DEPTH + " (or a cycle)");
            }
            if (--budget < 0) {
                throw unpickler.fail("value tree expands far beyond the pickle's size (memo abuse)");
            }
            if (value instanceof Map<?, ?> map) {
                for (Object child : map.values()) {
                    visit(child, depth + 1);
                }
            } else if (value instanceof List<?> list) {
                for (Object child : list) {
                    visit(child, depth + 1);
                }
            } else if (value instanceof PyTuple tuple) {
                for (Object child : tuple.items()) {
                    visit(child, depth + 1);
                }
            } else if (value instanceof Global || value instanceof PthStorage || value instanceof UntypedStorage) {
                throw unpickler.fail(describe(value) + " used as a value");
            }
        }
    }
}
