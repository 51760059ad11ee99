package neuron.engine.pth;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a torch.save archive's central directory (zip64 or not) into its records, checking every size and
 * offset against the file before using it. The prefix is the text before the first '/' of the first entry,
 * and every entry must carry it (PyTorchStreamReader's rule).
 */
final class ZipDirectory {
    private static final int EOCD_SIZE = 22;
    private static final int MAX_COMMENT = 0xFFFF;
    private static final int CENTRAL_HEADER_SIZE = 46;
    private static final int LOCAL_HEADER_SIZE = 30;
    private static final int MAX_ENTRIES = 1 << 20;
    private static final long MAX_DIRECTORY_BYTES = 256L << 20;

    private final Path file;
    private final MappedFile mapped;
    private String prefix;
    private final Map<String, ZipRecord> records = new LinkedHashMap<>();

    private ZipDirectory(Path file, MappedFile mapped) {
        this.file = file;
        this.mapped = mapped;
    }

    static ZipDirectory read(Path file, MappedFile mapped) throws IOException {
        ZipDirectory directory = new ZipDirectory(file, mapped);
        directory.parse();
        return directory;
    }

    String prefix() {
        return prefix;
    }

    /** Records by name without the prefix, in central-directory order. */
    Map<String, ZipRecord> records() {
        return records;
    }

    private void parse() throws IOException {
        long size = mapped.size();
        if (size < 4 || mapped.slice(0, 4).getInt(0) != ZipStreamWriter.LOCAL_HEADER_SIG) {
            throw fail("bad magic: not a zip archive (torch.save files start with PK\\3\\4)");
        }
        long eocd = findEndRecord(size);
        ByteBuffer end = mapped.slice(eocd, EOCD_SIZE);
        long count = end.getShort(10) & 0xFFFF;
        long directorySize = u32(end, 12);
        long directoryOffset = u32(end, 16);
        long directoryLimit = eocd;
        if (eocd >= 20 && mapped.slice(eocd - 20, 4).getInt(0) == ZipStreamWriter.ZIP64_LOCATOR_SIG) {
            long zip64End = mapped.slice(eocd - 20, 20).getLong(8);
            if (zip64End < 0 || zip64End > eocd - 20 - 56) {
                throw fail("zip64 end record offset " + Long.toUnsignedString(zip64End) + " outside the file");
            }
            ByteBuffer z = mapped.slice(zip64End, 56);
            if (z.getInt(0) != ZipStreamWriter.ZIP64_EOCD_SIG) {
                throw fail("bad zip64 end-of-central-directory signature");
            }
            count = z.getLong(32);
            directorySize = z.getLong(40);
            directoryOffset = z.getLong(48);
            directoryLimit = zip64End;
        }
        if (directoryOffset < 0 || directorySize < 0 || directoryOffset > directoryLimit
                || directorySize > directoryLimit - directoryOffset) {
            throw fail("central directory (" + Long.toUnsignedString(directorySize) + " bytes at "
                    + Long.toUnsignedString(directoryOffset) + ") lies outside the file (truncated?)");
        }
        if (directorySize > MAX_DIRECTORY_BYTES) {
            throw fail("central directory of " + directorySize + " bytes is larger than supported");
        }
        if (count <= 0 || count > MAX_ENTRIES || count > directorySize / CENTRAL_HEADER_SIZE) {
            throw fail("central directory claims " + Long.toUnsignedString(count) + " entries in "
                    + directorySize + " bytes");
        }
        ByteBuffer directory = mapped.slice(directoryOffset, (int) directorySize);
        int at = 0;
        for (long i = 0; i < count; i++) {
            at = readEntry(directory, at, directoryOffset);
        }
    }

    /** The classic end record: the last signature whose comment length reaches exactly to the end of the file. */
    private long findEndRecord(long size) throws IOException {
        int tail = (int) Math.min(size, EOCD_SIZE + MAX_COMMENT);
        long tailStart = size - tail;
        ByteBuffer buf = mapped.slice(tailStart, tail);
        for (int i = tail - EOCD_SIZE; i >= 0; i--) {
            if (buf.getInt(i) == ZipStreamWriter.EOCD_SIG && i + EOCD_SIZE + (buf.getShort(i + 20) & 0xFFFF) == tail) {
                return tailStart + i;
            }
        }
        throw fail("no end-of-central-directory record (truncated?)");
    }

    /** Parses the entry at {@code at} of the directory, checks its local header, returns where the next starts. */
    private int readEntry(ByteBuffer directory, int at, long directoryOffset) throws IOException {
        if (directory.limit() - at < CENTRAL_HEADER_SIZE || directory.getInt(at) != ZipStreamWriter.CENTRAL_HEADER_SIG) {
            throw fail("bad central directory entry at offset " + (directoryOffset + at));
        }
        int method = directory.getShort(at + 10) & 0xFFFF;
        int crc = directory.getInt(at + 16);
        long compressed = u32(directory, at + 20);
        long size = u32(directory, at + 24);
        int nameLength = directory.getShort(at + 28) & 0xFFFF;
        int extraLength = directory.getShort(at + 30) & 0xFFFF;
        int commentLength = directory.getShort(at + 32) & 0xFFFF;
        long headerOffset = u32(directory, at + 42);
        int next = at + CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
        if (next > directory.limit()) {
            throw fail("central directory entry at offset " + (directoryOffset + at) + " overruns the directory");
        }
        byte[] nameBytes = new byte[nameLength];
        directory.get(at + CENTRAL_HEADER_SIZE, nameBytes);
        String fullName = new String(nameBytes, StandardCharsets.UTF_8);

        // zip64 extra: the 64-bit values of the fields set to 0xFFFFFFFF, in this order
        int extra = at + CENTRAL_HEADER_SIZE + nameLength;
        int extraEnd = extra + extraLength;
        while (extraEnd - extra >= 4) {
            int id = directory.getShort(extra) & 0xFFFF;
            int length = directory.getShort(extra + 2) & 0xFFFF;
            int field = extra + 4;
            if (length > extraEnd - field) {
                throw fail("extra field of record " + fullName + " overruns its entry");
            }
            if (id == 1) {
                int fieldEnd = field + length;
                if (size == ZipStreamWriter.U32_MAX) {
                    size = zip64Value(directory, field, fieldEnd, fullName);
                    field += 8;
                }
                if (compressed == ZipStreamWriter.U32_MAX) {
                    compressed = zip64Value(directory, field, fieldEnd, fullName);
                    field += 8;
                }
                if (headerOffset == ZipStreamWriter.U32_MAX) {
                    headerOffset = zip64Value(directory, field, fieldEnd, fullName);
                }
            }
            extra = extra + 4 + length;
        }
        if (method != 0) {
            throw fail("record " + fullName + " is compressed (method " + method + "); torch.save stores records");
        }
        if (compressed != size) {
            throw fail("stored record " + fullName + " has compressed size " + compressed + " != size " + size);
        }
        addRecord(fullName, nameBytes, headerOffset, size, crc, directoryOffset);
        return next;
    }

    private long zip64Value(ByteBuffer directory, int field, int fieldEnd, String name) throws IOException {
        if (fieldEnd - field < 8) {
            throw fail("zip64 extra field of record " + name + " is too short");
        }
        long value = directory.getLong(field);
        if (value < 0) {
            throw fail("record " + name + " declares a size or offset beyond 2^63");
        }
        return value;
    }

    /** Checks the local header (signature, same name) and that the data lies before the central directory. */
    private void addRecord(String fullName, byte[] nameBytes, long headerOffset, long size, int crc, long dataLimit)
            throws IOException {
        if (headerOffset > dataLimit - LOCAL_HEADER_SIZE) {
            throw fail("record " + fullName + " has its header beyond the archive data (truncated?)");
        }
        ByteBuffer local = mapped.slice(headerOffset, LOCAL_HEADER_SIZE);
        if (local.getInt(0) != ZipStreamWriter.LOCAL_HEADER_SIG) {
            throw fail("bad local header signature for record " + fullName);
        }
        int nameLength = local.getShort(26) & 0xFFFF;
        int extraLength = local.getShort(28) & 0xFFFF;
        long dataOffset = headerOffset + LOCAL_HEADER_SIZE + nameLength + extraLength;
        if (nameLength != nameBytes.length || dataOffset > dataLimit
                || !mapped.slice(headerOffset + LOCAL_HEADER_SIZE, nameLength).equals(ByteBuffer.wrap(nameBytes))) {
            throw fail("local header of record " + fullName + " does not match the central directory");
        }
        if (size > dataLimit - dataOffset) {
            throw fail("record " + fullName + " (" + size + " bytes at " + dataOffset
                    + ") extends beyond the archive data (truncated?)");
        }
        int slash = fullName.indexOf('/');
        if (prefix == null) {
            if (slash <= 0) {
                throw fail("record " + fullName + " is not in a subdirectory");
            }
            prefix = fullName.substring(0, slash);
        }
        if (!fullName.startsWith(prefix + "/")) {
            throw fail("record " + fullName + " is not under the archive prefix " + prefix + "/");
        }
        String name = fullName.substring(prefix.length() + 1);
        if (records.putIfAbsent(name, new ZipRecord(name, dataOffset, size, crc)) != null) {
            throw fail("duplicate record " + fullName);
        }
    }

    private static long u32(ByteBuffer buf, int at) {
        return Integer.toUnsignedLong(buf.getInt(at));
    }

    private PthFormatException fail(String reason) {
        return new PthFormatException(file, reason);
    }
}
