package neuron.engine.chain.scale;

import java.math.BigInteger;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Reads SCALE from bytes that come from outside (a node's answer): every read is bounds-checked and a value that
 * does not fit is a {@link ScaleFormatException}, never an over-allocation or a wrapped number.
 */
public final class ScaleReader {
    private final byte[] data;
    private int position;

    public ScaleReader(byte[] data) {
        this.data = data;
    }

    public int u8() {
        need(1);
        return data[position++] & 0xFF;
    }

    public boolean bool() {
        int value = u8();
        if (value > 1) {
            throw new ScaleFormatException("a bool is 0 or 1, got " + value + " at " + (position - 1));
        }
        return value == 1;
    }

    public int u16() {
        return u8() | u8() << 8;
    }

    public long u32() {
        return (u16() & 0xFFFFL) | (long) u16() << 16;
    }

    public long u64() {
        return u32() | u32() << 32;
    }

    /** A compact integer that must fit a signed long (block numbers, lengths, timestamps do). */
    public long compact() {
        int first = u8();
        if ((first & 0b11) != 0b11) {
            return smallCompact(first);
        }
        BigInteger value = bigCompact(first);
        if (value.bitLength() > 63) {
            throw new ScaleFormatException("compact integer " + value + " is too large");
        }
        return value.longValue();
    }

    /** A compact integer of any size (a u128 balance or tip may need more than a long). */
    public BigInteger compactBig() {
        int first = u8();
        return (first & 0b11) != 0b11 ? BigInteger.valueOf(smallCompact(first)) : bigCompact(first);
    }

    private long smallCompact(int first) {
        return switch (first & 0b11) {
            case 0b00 -> first >>> 2;
            case 0b01 -> (first | u8() << 8) >>> 2;
            default -> ((first | (long) u8() << 8 | (long) u8() << 16 | (long) u8() << 24) & 0xFFFF_FFFFL) >>> 2;
        };
    }

    private BigInteger bigCompact(int first) {
        int length = (first >>> 2) + 4;
        byte[] littleEndian = raw(length);
        byte[] bigEndian = new byte[length];
        for (int i = 0; i < length; i++) {
            bigEndian[i] = littleEndian[length - 1 - i];
        }
        return new BigInteger(1, bigEndian);
    }

    /** A compact length, checked against the bytes that are left (each element takes at least one byte). */
    public int length() {
        long length = compact();
        if (length > data.length - position) {
            throw new ScaleFormatException("length " + length + " at " + position + " runs past the end ("
                    + (data.length - position) + " bytes left)");
        }
        return (int) length;
    }

    public byte[] raw(int count) {
        need(count);
        byte[] out = Arrays.copyOfRange(data, position, position + count);
        position += count;
        return out;
    }

    /** {@code Vec<u8>}. */
    public byte[] bytes() {
        return raw(length());
    }

    public String str() {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes())).toString();
        } catch (CharacterCodingException e) {
            throw new ScaleFormatException("a string that is not UTF-8 at " + position);
        }
    }

    public int position() {
        return position;
    }

    public int remaining() {
        return data.length - position;
    }

    /** Checks that nothing follows the value just read. */
    public void expectEnd() {
        if (remaining() != 0) {
            throw new ScaleFormatException(remaining() + " bytes left over after the value");
        }
    }

    private void need(int count) {
        if (count < 0 || count > data.length - position) {
            throw new ScaleFormatException("needs " + count + " bytes at " + position + ", " + (data.length - position)
                    + " left");
        }
    }
}
