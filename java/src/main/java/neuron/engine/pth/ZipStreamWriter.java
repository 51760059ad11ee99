package neuron.engine.pth;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Writes an uncompressed ZIP64 archive in one pass, byte for byte as PyTorch's miniz-based
 * {@code PyTorchStreamWriter} does (pth-format.md §4): every record's data 64-byte aligned through an "FB"
 * padding extra, sizes and CRC-32 in a data descriptor after the data, zip64 extras only for sizes or offsets
 * of 0xFFFFFFFF and more, then central directory, zip64 end records and the classic end record.
 */
final class ZipStreamWriter {
    static final int ALIGNMENT = 64;
    static final long U32_MAX = 0xFFFFFFFFL;
    static final int LOCAL_HEADER_SIG = 0x04034b50;
    static final int CENTRAL_HEADER_SIG = 0x02014b50;
    static final int DATA_DESCRIPTOR_SIG = 0x08074b50;
    static final int ZIP64_EOCD_SIG = 0x06064b50;
    static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    static final int EOCD_SIG = 0x06054b50;
    private static final int FLAG_UTF8 = 0x0800;
    private static final int FLAG_DATA_DESCRIPTOR = 0x0008;

    private final ArchiveSink sink;
    private final String prefix;
    /** Headers, descriptors and the central directory go out through this one reused buffer. */
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(1 << 17).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32 crc = new CRC32();
    private final List<Entry> entries = new ArrayList<>();
    private long position;
    private Entry open;
    private long openWritten;

    /** One finished record, as the central directory needs it. */
    private record Entry(byte[] name, long headerOffset, long size, int crc) {
        boolean zip64() {
            return size >= U32_MAX || headerOffset >= U32_MAX;
        }
    }

    ZipStreamWriter(ArchiveSink sink, String prefix) {
        this.sink = sink;
        this.prefix = prefix;
    }

    /** Bytes written so far: the archive's current size. */
    long position() {
        return position;
    }

    boolean recordOpen() {
        return open != null;
    }

    /** Bytes the open record still expects. */
    long openRemaining() {
        return open.size - openWritten;
    }

    /** The zip name of record {@code name}: prefix + "/" + name. */
    String fullName(String name) {
        return prefix + "/" + name;
    }

    void beginRecord(String name, long size) throws IOException {
        if (open != null) {
            throw new IllegalStateException("record " + new String(open.name, StandardCharsets.UTF_8)
                    + " is still open: " + openRemaining() + " of its bytes are missing");
        }
        byte[] fullName = fullName(name).getBytes(StandardCharsets.UTF_8);
        if (fullName.length > 0xFFFF) {
            throw new IllegalArgumentException("record name too long: " + name);
        }
        long headerOffset = position;
        boolean bigSize = size >= U32_MAX;
        boolean bigOffset = headerOffset >= U32_MAX;
        int zip64Extra = (bigSize || bigOffset) ? 4 + (bigSize ? 16 : 0) + (bigOffset ? 8 : 0) : 0;
        int padding = padding(headerOffset, fullName.length, zip64Extra);
        int flags = size > 0 ? FLAG_UTF8 | FLAG_DATA_DESCRIPTOR : FLAG_UTF8;

        room(30 + fullName.length + zip64Extra + 4 + padding);
        scratch.putInt(LOCAL_HEADER_SIG).putShort((short) 0).putShort((short) flags).putShort((short) 0)
                .putInt(0) // time and date: PyTorch builds miniz with MINIZ_NO_TIME
                .putInt(0).putInt(0).putInt(0) // crc, sizes: in the data descriptor
                .putShort((short) fullName.length).putShort((short) (zip64Extra + 4 + padding)).put(fullName);
        if (zip64Extra > 0) {
            scratch.putShort((short) 1).putShort((short) (zip64Extra - 4));
            if (bigSize) {
                scratch.putLong(size).putLong(0); // miniz writes the local comp size before it knows it: 0
            }
            if (bigOffset) {
                scratch.putLong(headerOffset);
            }
        }
        scratch.put((byte) 'F').put((byte) 'B').putShort((short) padding);
        for (int i = 0; i < padding; i++) {
            scratch.put((byte) 'Z');
        }
        flush();
        open = new Entry(fullName, headerOffset, size, 0);
        openWritten = 0;
        crc.reset();
    }

    /** The "FB" padding that puts the data of a record whose header is at {@code headerOffset} on the alignment. */
    static int padding(long headerOffset, int fullNameLength, int zip64ExtraLength) {
        long start = headerOffset + 30 + fullNameLength + zip64ExtraLength + 4;
        return (int) ((ALIGNMENT - start % ALIGNMENT) % ALIGNMENT);
    }

    /** Streams {@code chunk}'s remaining bytes into the open record: CRC first (on a view), then the sink. */
    void writeData(ByteBuffer chunk) throws IOException {
        if (open == null) {
            throw new IllegalStateException("no record is open");
        }
        int n = chunk.remaining();
        if (n > openRemaining()) {
            throw new IllegalStateException("record " + new String(open.name, StandardCharsets.UTF_8) + " takes "
                    + openRemaining() + " more bytes, got " + n);
        }
        crc.update(chunk.duplicate());
        sink.write(chunk);
        position += n;
        openWritten += n;
    }

    void endRecord() throws IOException {
        if (open == null) {
            throw new IllegalStateException("no record is open");
        }
        if (openRemaining() != 0) {
            throw new IllegalStateException("record " + new String(open.name, StandardCharsets.UTF_8) + " is short by "
                    + openRemaining() + " bytes");
        }
        Entry done = new Entry(open.name, open.headerOffset, open.size, (int) crc.getValue());
        open = null;
        if (done.size > 0) {
            room(24);
            scratch.putInt(DATA_DESCRIPTOR_SIG).putInt(done.crc);
            if (done.zip64()) {
                scratch.putLong(done.size).putLong(done.size);
            } else {
                scratch.putInt((int) done.size).putInt((int) done.size);
            }
            flush();
        }
        entries.add(done);
    }

    void writeRecord(String name, ByteBuffer data) throws IOException {
        beginRecord(name, data.remaining());
        writeData(data);
        endRecord();
    }

    /**
     * {@code .data/serialization_id}'s 40 digits. PyTorch hash-combines {@code c10::hash} of the record names and
     * their CRCs; this uses the same {@code hash_combine} over FNV-1a-64 of the names and the CRCs, so the id is
     * as unique per file but not the digits PyTorch would print (nothing in torch.load checks them).
     */
    String serializationId() {
        long names = 0;
        long crcs = 0;
        for (Entry entry : entries) {
            names = hashCombine(names, fnv1a(entry.name));
            crcs = hashCombine(crcs, Integer.toUnsignedLong(entry.crc));
        }
        return zeroPadded(Long.toUnsignedString(names)) + zeroPadded(Long.toUnsignedString(crcs));
    }

    private static String zeroPadded(String digits) {
        return "0".repeat(20 - digits.length()) + digits;
    }

    private static long hashCombine(long seed, long value) {
        return seed ^ (value + 0x9e3779b9L + (seed << 6) + (seed >>> 2));
    }

    private static long fnv1a(byte[] bytes) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : bytes) {
            hash = (hash ^ (b & 0xFF)) * 0x100000001b3L;
        }
        return hash;
    }

    /** Central directory, zip64 end record and locator, classic end record. */
    void finish() throws IOException {
        if (open != null) {
            throw new IllegalStateException("record " + new String(open.name, StandardCharsets.UTF_8) + " is still open");
        }
        long directoryOffset = position;
        for (Entry entry : entries) {
            boolean bigSize = entry.size >= U32_MAX;
            boolean bigOffset = entry.headerOffset >= U32_MAX;
            int zip64Extra = (bigSize || bigOffset) ? 4 + (bigSize ? 16 : 0) + (bigOffset ? 8 : 0) : 0;
            int flags = entry.size > 0 ? FLAG_UTF8 | FLAG_DATA_DESCRIPTOR : FLAG_UTF8;
            room(46 + entry.name.length + zip64Extra);
            scratch.putInt(CENTRAL_HEADER_SIG).putShort((short) 0).putShort((short) 0).putShort((short) flags)
                    .putShort((short) 0).putInt(0).putInt(entry.crc)
                    .putInt((int) Math.min(entry.size, U32_MAX)).putInt((int) Math.min(entry.size, U32_MAX))
                    .putShort((short) entry.name.length).putShort((short) zip64Extra)
                    .putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt(0)
                    .putInt((int) Math.min(entry.headerOffset, U32_MAX)).put(entry.name);
            if (zip64Extra > 0) {
                scratch.putShort((short) 1).putShort((short) (zip64Extra - 4));
                if (bigSize) {
                    scratch.putLong(entry.size).putLong(entry.size);
                }
                if (bigOffset) {
                    scratch.putLong(entry.headerOffset);
                }
            }
        }
        flush();
        long directorySize = position - directoryOffset;
        long zip64EndOffset = position;
        long count = entries.size();
        room(56 + 20 + 22);
        scratch.putInt(ZIP64_EOCD_SIG).putLong(44).putShort((short) 0x031E).putShort((short) 0x002D)
                .putInt(0).putInt(0).putLong(count).putLong(count).putLong(directorySize).putLong(directoryOffset);
        scratch.putInt(ZIP64_LOCATOR_SIG).putInt(0).putLong(zip64EndOffset).putInt(1);
        scratch.putInt(EOCD_SIG).putShort((short) 0).putShort((short) 0)
                .putShort((short) Math.min(count, 0xFFFF)).putShort((short) Math.min(count, 0xFFFF))
                .putInt((int) Math.min(directorySize, U32_MAX)).putInt((int) Math.min(directoryOffset, U32_MAX))
                .putShort((short) 0);
        flush();
    }

    /** Makes room for {@code n} more bytes in the scratch buffer, flushing it first if needed. */
    private void room(int n) throws IOException {
        if (scratch.remaining() < n) {
            flush();
        }
        if (scratch.remaining() < n) {
            throw new IllegalArgumentException("header of " + n + " bytes does not fit the scratch buffer");
        }
    }

    private void flush() throws IOException {
        scratch.flip();
        int n = scratch.remaining();
        sink.write(scratch);
        position += n;
        scratch.clear();
    }
}
