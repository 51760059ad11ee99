package neuron.engine.pth;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Pickles a value tree at protocol 2 the way CPython's {@code pickle.Pickler(protocol=2)} does for torch.save
 * (pth-format.md §8), using only opcodes and globals that {@code torch.load(weights_only=True)} accepts.
 * Storages become persistent ids keyed "0", "1", ... in first-encounter order.
 */
final class Pickler {
    static final int MAX_DEPTH = 1000;
    private static final int BATCH = 1000;

    private byte[] out = new byte[256];
    private int length;
    private final Map<PthStorage, String> keys = new IdentityHashMap<>();
    private final List<PthStorage> storages = new ArrayList<>();
    private final Map<String, Integer> memoizedGlobals = new HashMap<>();

    /** data.pkl's bytes and the storages in key order. */
    record Result(ByteBuffer bytes, List<PthStorage> storages) {
    }

    static Result pickle(Object root) {
        Pickler pickler = new Pickler();
        pickler.op(0x80).u8(2);
        pickler.save(root, 0);
        pickler.op('.');
        return new Result(ByteBuffer.wrap(pickler.out, 0, pickler.length).asReadOnlyBuffer(),
                Collections.unmodifiableList(pickler.storages));
    }

    private void save(Object value, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("value tree nested deeper than " + MAX_DEPTH + " (a cycle?)");
        }
        if (value == null) {
            op('N');
        } else if (value instanceof Boolean b) {
            op(b ? 0x88 : 0x89);
        } else if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            saveInt(((Number) value).longValue());
        } else if (value instanceof BigInteger big) {
            saveBigInt(big);
        } else if (value instanceof Double || value instanceof Float) {
            op('G');
            long bits = Double.doubleToRawLongBits(((Number) value).doubleValue());
            for (int shift = 56; shift >= 0; shift -= 8) {
                u8((int) (bits >>> shift));
            }
        } else if (value instanceof String s) {
            saveString(s);
        } else if (value instanceof DType dtype) {
            global("torch", dtype.pythonName());
        } else if (value instanceof PthTensor tensor) {
            saveTensor(tensor);
        } else if (value instanceof PyTuple tuple) {
            saveTuple(tuple.items(), depth);
        } else if (value instanceof List<?> list) {
            op(']');
            saveBatched(list.iterator(), list.size(), depth, 'a', 'e');
        } else if (value instanceof PyOrderedDict dict) {
            emptyOrderedDict();
            saveItems(dict, depth);
        } else if (value instanceof Map<?, ?> dict) {
            op('}');
            saveItems(dict, depth);
        } else {
            throw new IllegalArgumentException("cannot pickle a " + value.getClass().getName());
        }
    }

    private void saveInt(long v) {
        if (v >= 0 && v <= 0xFF) {
            op('K').u8((int) v);
        } else if (v >= 0 && v <= 0xFFFF) {
            op('M').u8((int) v).u8((int) (v >>> 8));
        } else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            op('J').i32le((int) v);
        } else {
            saveBigInt(BigInteger.valueOf(v));
        }
    }

    /** LONG1: minimal two's-complement little-endian bytes, as Python's {@code encode_long}. */
    private void saveBigInt(BigInteger v) {
        if (v.bitLength() <= 31) {
            saveInt(v.intValue());
            return;
        }
        byte[] bigEndian = v.toByteArray();
        if (bigEndian.length > 0xFF) {
            throw new IllegalArgumentException("integer too large for LONG1 (" + bigEndian.length + " bytes)");
        }
        op(0x8a).u8(bigEndian.length);
        for (int i = bigEndian.length - 1; i >= 0; i--) {
            u8(bigEndian[i]);
        }
    }

    private void saveString(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        op('X').i32le(utf8.length).bytes(utf8);
    }

    private void saveTuple(List<Object> items, int depth) {
        if (items.isEmpty()) {
            op(')');
            return;
        }
        if (items.size() > 3) {
            op('(');
        }
        for (Object item : items) {
            save(item, depth + 1);
        }
        op(items.size() > 3 ? 't' : 0x84 + items.size());
    }

    /** APPEND/SETITEM for a batch of one, MARK..APPENDS/SETITEMS otherwise, in batches of 1000 like CPython. */
    private void saveBatched(Iterator<?> items, int count, int depth, int single, int batchEnd) {
        int left = count;
        while (left > 0) {
            int n = Math.min(left, BATCH);
            if (n > 1) {
                op('(');
            }
            for (int i = 0; i < n; i++) {
                Object item = items.next();
                if (item instanceof Map.Entry<?, ?> entry) {
                    saveKey(entry.getKey());
                    save(entry.getValue(), depth + 1);
                } else {
                    save(item, depth + 1);
                }
            }
            op(n > 1 ? batchEnd : single);
            left -= n;
        }
    }

    private void saveItems(Map<?, ?> dict, int depth) {
        saveBatched(dict.entrySet().iterator(), dict.size(), depth, 's', 'u');
    }

    private void saveKey(Object key) {
        checkKey(key);
        save(key, 0);
    }

    /** Keys as the reader accepts them: what Python can hash (no list, dict or tensor, in a tuple neither). */
    private static void checkKey(Object key) {
        if (key instanceof List<?> || key instanceof Map<?, ?> || key instanceof PthTensor) {
            throw new IllegalArgumentException("a dict key cannot be a " + key.getClass().getName());
        }
        if (key instanceof PyTuple tuple) {
            tuple.items().forEach(Pickler::checkKey);
        }
    }

    private void emptyOrderedDict() {
        global("collections", "OrderedDict");
        op(')').op('R');
    }

    /**
     * {@code _rebuild_tensor_v2(pid, offset, size, stride, requires_grad, OrderedDict())} where pid is
     * {@code ("storage", torch.XStorage, key, location, numel)} written with BINPERSID.
     */
    private void saveTensor(PthTensor tensor) {
        PthStorage storage = tensor.storage();
        if (!storage.dtype().legacy()) {
            throw new IllegalArgumentException("cannot write " + storage.dtype().pythonName()
                    + " tensors: only dtypes with a legacy storage class (torch 1.x can read them)");
        }
        String key = keys.get(storage);
        if (key == null) {
            key = Integer.toString(storages.size());
            keys.put(storage, key);
            storages.add(storage);
        }
        global("torch._utils", "_rebuild_tensor_v2");
        op('(');
        op('(');
        saveString("storage");
        global("torch", storage.dtype().storageClass());
        saveString(key);
        saveString(storage.location());
        saveInt(storage.numel());
        op('t').op('Q');
        saveInt(tensor.storageOffset());
        saveTuple(boxed(tensor.shape()), 0);
        saveTuple(boxed(tensor.stride()), 0);
        op(tensor.requiresGrad() ? 0x88 : 0x89);
        emptyOrderedDict();
        op('t').op('R');
    }

    private static List<Object> boxed(long[] values) {
        return Arrays.asList(Arrays.stream(values).boxed().toArray());
    }

    /** GLOBAL once, then BINGET from the memo, as CPython's memo does for repeated classes. */
    private void global(String module, String name) {
        String qualified = module + "\n" + name + "\n";
        Integer slot = memoizedGlobals.get(qualified);
        if (slot != null) {
            getMemo(slot);
            return;
        }
        op('c').bytes(qualified.getBytes(StandardCharsets.US_ASCII));
        slot = memoizedGlobals.size();
        memoizedGlobals.put(qualified, slot);
        if (slot <= 0xFF) {
            op('q').u8(slot);
        } else {
            op('r').i32le(slot);
        }
    }

    private void getMemo(int slot) {
        if (slot <= 0xFF) {
            op('h').u8(slot);
        } else {
            op('j').i32le(slot);
        }
    }

    private Pickler op(int opcode) {
        return u8(opcode);
    }

    private Pickler u8(int b) {
        if (length == out.length) {
            out = Arrays.copyOf(out, out.length * 2);
        }
        out[length++] = (byte) b;
        return this;
    }

    private Pickler i32le(int v) {
        return u8(v).u8(v >>> 8).u8(v >>> 16).u8(v >>> 24);
    }

    private Pickler bytes(byte[] b) {
        if (length + b.length > out.length) {
            out = Arrays.copyOf(out, Math.max(out.length * 2, length + b.length));
        }
        System.arraycopy(b, 0, out, length, b.length);
        length += b.length;
        return this;
    }
}
