package neuron.engine.chain.scale;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The root of Substrate's base-16 Merkle-Patricia trie (sp-trie's node codec, BLAKE2b-256) over a set of key/value
 * pairs: a block's state root over its storage, and its extrinsics root over its extrinsics (keyed by their
 * compact-encoded index). State version 1 stores values of 33 bytes or more as their hash; version 0 inlines every
 * value. Children whose encoding is shorter than a hash are inlined; the root is always hashed.
 */
public final class TrieRoot {
    private static final int HASH_LENGTH = 32;
    /** From this size on, state version 1 puts a value's hash in its node instead of the value. */
    private static final int HASHED_VALUE_THRESHOLD = 33;
    private static final int LEAF = 0b01 << 6;
    private static final int BRANCH_NO_VALUE = 0b10 << 6;
    private static final int BRANCH_WITH_VALUE = 0b11 << 6;
    private static final int HASHED_VALUE_LEAF = 0b001 << 5;
    private static final int HASHED_VALUE_BRANCH = 0b0001 << 4;

    private TrieRoot() {
    }

    /** The root over {@code entries} (any order: the trie sorts them by key). */
    public static byte[] of(Map<byte[], byte[]> entries, int stateVersion) {
        if (stateVersion != 0 && stateVersion != 1) {
            throw new IllegalArgumentException("state versions are 0 and 1, got " + stateVersion);
        }
        TreeMap<byte[], byte[]> sorted = new TreeMap<>(Arrays::compareUnsigned);
        sorted.putAll(entries);
        if (sorted.isEmpty()) {
            return Hashing.blake2b256(new byte[] {0});
        }
        List<byte[]> keys = new ArrayList<>(sorted.size());
        List<byte[]> values = new ArrayList<>(sorted.size());
        sorted.forEach((key, value) -> {
            keys.add(nibbles(key));
            values.add(value);
        });
        return Hashing.blake2b256(node(keys, values, 0, keys.size(), 0, stateVersion == 1));
    }

    /** The extrinsics root: the trie of {@code Compact(index) -> extrinsic} (each as its full SCALE encoding). */
    public static byte[] ordered(List<byte[]> values, int stateVersion) {
        Map<byte[], byte[]> entries = new TreeMap<>(Arrays::compareUnsigned);
        for (int i = 0; i < values.size(); i++) {
            entries.put(new ScaleWriter().compact(i).toByteArray(), values.get(i));
        }
        return of(entries, stateVersion);
    }

    /** The encoded node for keys {@code [from, to)}, which share their first {@code depth} nibbles. */
    private static byte[] node(List<byte[]> keys, List<byte[]> values, int from, int to, int depth, boolean hashValues) {
        byte[] first = keys.get(from);
        if (to - from == 1) {
            return encode(LEAF, HASHED_VALUE_LEAF, first, depth, first.length, values.get(from), null, hashValues);
        }
        // the branch sits where the first and the last key part (sorted, so every key in between agrees too)
        int end = depth;
        byte[] last = keys.get(to - 1);
        while (end < first.length && end < last.length && first[end] == last[end]) {
            end++;
        }
        byte[] value = null;
        int child = from;
        if (first.length == end) { // a key that ends at the branch is the branch's value; it sorts first
            value = values.get(from);
            child++;
        }
        byte[][] children = new byte[16][];
        while (child < to) {
            int nibble = keys.get(child)[end];
            int groupEnd = child;
            while (groupEnd < to && keys.get(groupEnd)[end] == nibble) {
                groupEnd++;
            }
            children[nibble] = node(keys, values, child, groupEnd, end + 1, hashValues);
            child = groupEnd;
        }
        return encode(value == null ? BRANCH_NO_VALUE : BRANCH_WITH_VALUE, HASHED_VALUE_BRANCH, first, depth, end, value,
                children, hashValues);
    }

    private static byte[] encode(int prefix, int hashedPrefix, byte[] key, int from, int to, byte[] value,
                                 byte[][] children, boolean hashValues) {
        boolean hashed = value != null && hashValues && value.length >= HASHED_VALUE_THRESHOLD;
        ScaleWriter out = new ScaleWriter();
        int count = to - from;
        if (hashed) {
            header(out, hashedPrefix, hashedPrefix == HASHED_VALUE_LEAF ? 3 : 4, count);
        } else {
            header(out, prefix, 2, count);
        }
        if (count % 2 == 1) {
            out.u8(key[from]);
        }
        for (int i = from + count % 2; i < to; i += 2) {
            out.u8(key[i] << 4 | key[i + 1]);
        }
        if (children != null) {
            int bitmap = 0;
            for (int i = 0; i < 16; i++) {
                bitmap |= children[i] == null ? 0 : 1 << i;
            }
            out.u16(bitmap);
        }
        if (value != null) {
            if (hashed) {
                out.raw(Hashing.blake2b256(value));
            } else {
                out.bytes(value);
            }
        }
        if (children != null) {
            for (byte[] child : children) {
                if (child != null) {
                    out.bytes(child.length < HASH_LENGTH ? child : Hashing.blake2b256(child));
                }
            }
        }
        return out.toByteArray();
    }

    /** The node header: kind in the top bits, nibble count in the rest, continued in further bytes when it does not fit. */
    private static void header(ScaleWriter out, int prefix, int prefixBits, int nibbleCount) {
        int max = 255 >>> prefixBits;
        int inFirst = Math.min(max - 1, nibbleCount);
        if (nibbleCount == inFirst) {
            out.u8(prefix + inFirst);
            return;
        }
        out.u8(prefix + max);
        int rest = nibbleCount - inFirst;
        while (rest > 0) {
            if (rest < 256) {
                out.u8(rest - 1);
                rest = 0;
            } else {
                out.u8(255);
                rest -= 255;
            }
        }
    }

    private static byte[] nibbles(byte[] key) {
        byte[] out = new byte[key.length * 2];
        for (int i = 0; i < key.length; i++) {
            out[2 * i] = (byte) ((key[i] >>> 4) & 0xF);
            out[2 * i + 1] = (byte) (key[i] & 0xF);
        }
        return out;
    }
}
