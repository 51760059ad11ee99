package neuron.engine.chain.scale;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.algo.XxHash;
import org.bouncycastle.crypto.digests.Blake2bDigest;

/**
 * The hashes Substrate uses: BLAKE2b-256 for block hashes and trie nodes, and the storage hashers that build
 * storage keys ({@code twox128(pallet) ++ twox128(item) ++ hashed keys}).
 */
public final class Hashing {
    private static final XxHash SEED_0 = new XxHash(0);
    private static final XxHash SEED_1 = new XxHash(1);

    private Hashing() {
    }

    public static byte[] blake2b256(byte[] data) {
        return blake2b(data, 256);
    }

    /** BLAKE2b-512, e.g. the checksum of an SS58 address. */
    public static byte[] blake2b512(byte[] data) {
        return blake2b(data, 512);
    }

    public static byte[] blake2b128(byte[] data) {
        return blake2b(data, 128);
    }

    /** The first 8 bytes of BLAKE2b-64, e.g. a runtime API's id. */
    public static byte[] blake2b64(byte[] data) {
        return blake2b(data, 64);
    }

    /** xxHash64 with seeds 0 and 1, each little-endian: the hasher of pallet and item names. */
    public static byte[] twox128(byte[] data) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(xxHash64(SEED_0, data)).putLong(xxHash64(SEED_1, data)).array();
    }

    public static byte[] twox64(byte[] data) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(xxHash64(SEED_0, data)).array();
    }

    /** The storage key prefix of an item: {@code twox128(pallet) ++ twox128(item)}. */
    public static byte[] storagePrefix(String pallet, String item) {
        return concat(twox128(pallet.getBytes(StandardCharsets.UTF_8)), twox128(item.getBytes(StandardCharsets.UTF_8)));
    }

    public static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        ByteBuffer out = ByteBuffer.allocate(length);
        for (byte[] part : parts) {
            out.put(part);
        }
        return out.array();
    }

    private static byte[] blake2b(byte[] data, int bits) {
        Blake2bDigest digest = new Blake2bDigest(bits);
        digest.update(data, 0, data.length);
        byte[] out = new byte[bits / 8];
        digest.doFinal(out, 0);
        return out;
    }

    private static long xxHash64(XxHash hash, byte[] data) {
        Bytes<byte[]> bytes = Bytes.wrapForRead(data);
        try {
            return hash.applyAsLong(bytes);
        } finally {
            bytes.releaseLast();
        }
    }
}
