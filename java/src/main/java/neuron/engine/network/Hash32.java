package neuron.engine.network;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/** A 32-byte hash (block hash, parent hash, submission content hash): immutable, equal by value, "0x…" as text. */
public final class Hash32 {
    public static final int LENGTH = 32;
    public static final Hash32 ZERO = new Hash32(new byte[LENGTH]);
    private static final HexFormat HEX = HexFormat.of();

    private final byte[] bytes;

    private Hash32(byte[] bytes) {
        this.bytes = bytes;
    }

    public static Hash32 of(byte[] bytes) {
        if (bytes.length != LENGTH) {
            throw new IllegalArgumentException("a hash has " + LENGTH + " bytes, got " + bytes.length);
        }
        return new Hash32(bytes.clone());
    }

    /** Takes ownership of {@code bytes} (already checked to be 32 long): for readers that just allocated it. */
    public static Hash32 adopt(byte[] bytes) {
        return new Hash32(bytes);
    }

    /** Parses "0x" followed by 64 hex digits. */
    public static Hash32 parseHex(String text) {
        if (text == null || text.length() != 2 + 2 * LENGTH || !text.startsWith("0x")) {
            throw new IllegalArgumentException("not a 0x-prefixed 32-byte hex hash: " + text);
        }
        return new Hash32(HEX.parseHex(text, 2, text.length()));
    }

    public static Hash32 sha256(byte[]... parts) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (byte[] part : parts) {
                digest.update(part);
            }
            return new Hash32(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    public byte[] toBytes() {
        return bytes.clone();
    }

    /** The bytes without a copy, for writers that only read them. */
    public byte[] bytesView() {
        return bytes;
    }

    public String toHex() {
        return "0x" + HEX.formatHex(bytes);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Hash32 h && Arrays.equals(bytes, h.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return toHex();
    }
}
