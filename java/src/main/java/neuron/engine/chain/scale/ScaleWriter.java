package neuron.engine.chain.scale;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * SCALE, Substrate's binary encoding, written into a growing buffer: little-endian fixed-width integers, compact
 * (variable-length) integers, length-prefixed bytes and strings. Methods return {@code this} for chaining.
 */
public final class ScaleWriter {
    private static final BigInteger MAX_COMPACT = BigInteger.ONE.shiftLeft(536).subtract(BigInteger.ONE);

    private byte[] buffer = new byte[64];
    private int size;

    public ScaleWriter u8(int value) {
        ensure(1);
        buffer[size++] = (byte) value;
        return this;
    }

    public ScaleWriter bool(boolean value) {
        return u8(value ? 1 : 0);
    }

    public ScaleWriter u16(int value) {
        return u8(value).u8(value >>> 8);
    }

    public ScaleWriter u32(long value) {
        return u16((int) value).u16((int) (value >>> 16));
    }

    public ScaleWriter u64(long value) {
        return u32(value).u32(value >>> 32);
    }

    /** A compact unsigned integer: 1, 2 or 4 bytes up to 2^30 - 1, else a length byte and the value's bytes. */
    public ScaleWriter compact(long value) {
        if (value < 0) {
            return compact(new BigInteger(Long.toUnsignedString(value)));
        }
        if (value < 1L << 6) {
            return u8((int) (value << 2));
        }
        if (value < 1L << 14) {
            return u16((int) (value << 2) | 0b01);
        }
        if (value < 1L << 30) {
            return u32((value << 2) | 0b10);
        }
        return compact(BigInteger.valueOf(value));
    }

    public ScaleWriter compact(BigInteger value) {
        if (value.signum() < 0 || value.compareTo(MAX_COMPACT) > 0) {
            throw new IllegalArgumentException("not a compact integer: " + value);
        }
        if (value.bitLength() <= 30) {
            return compact(value.longValue());
        }
        byte[] bigEndian = value.toByteArray();
        int start = bigEndian[0] == 0 ? 1 : 0; // toByteArray adds a sign byte when the top bit is set
        int length = Math.max(4, bigEndian.length - start);
        u8(((length - 4) << 2) | 0b11);
        for (int i = 0; i < length; i++) {
            int index = bigEndian.length - 1 - i;
            u8(index >= start ? bigEndian[index] : 0);
        }
        return this;
    }

    /** Raw bytes, no length prefix (fixed-size values such as a hash). */
    public ScaleWriter raw(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, buffer, size, bytes.length);
        size += bytes.length;
        return this;
    }

    /** {@code Vec<u8>}: a compact length, then the bytes. */
    public ScaleWriter bytes(byte[] bytes) {
        return compact(bytes.length).raw(bytes);
    }

    /** A string: its UTF-8 bytes as {@code Vec<u8>}. */
    public ScaleWriter str(String text) {
        return bytes(text.getBytes(StandardCharsets.UTF_8));
    }

    public int size() {
        return size;
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(buffer, size);
    }

    private void ensure(int more) {
        if (size + more > buffer.length) {
            buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, size + more));
        }
    }
}
