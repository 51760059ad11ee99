package neuron.engine.pth;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The bytes of one storage of an open {@link PthReader}: read-only little-endian views of the file mapping,
 * never copied into the heap. Views stay readable after the reader is closed (until garbage-collected) but
 * must not be used then. A storage over {@link #MAX_VIEW_BYTES} is reached in several views.
 */
public final class StorageData {
    /** The largest single view: 512 MiB. */
    public static final int MAX_VIEW_BYTES = MappedFile.STEP;

    private final String key;
    private final PthStorage storage;
    private final MappedFile mapped;
    private final long fileOffset;
    private final int crc;

    StorageData(String key, PthStorage storage, MappedFile mapped, long fileOffset, int crc) {
        this.key = key;
        this.storage = storage;
        this.mapped = mapped;
        this.fileOffset = fileOffset;
        this.crc = crc;
    }

    /** Where the storage's bytes start in the file: for reading them without the mapping. */
    public long fileOffset() {
        return fileOffset;
    }

    /** The CRC-32 the central directory records for the storage's bytes. */
    public int crc() {
        return crc;
    }

    /** The key in data.pkl; the record is {@code data/<key>}. */
    public String key() {
        return key;
    }

    public PthStorage storage() {
        return storage;
    }

    public long byteSize() {
        return storage.nbytes();
    }

    /** A view of {@code length <= MAX_VIEW_BYTES} bytes at {@code offset} within the storage. */
    public ByteBuffer slice(long offset, int length) throws IOException {
        if (offset < 0 || length < 0 || length > MAX_VIEW_BYTES || offset > byteSize() - length) {
            throw new IndexOutOfBoundsException("range " + offset + "+" + length + " outside storage " + key
                    + " of " + byteSize() + " bytes");
        }
        return mapped.slice(fileOffset + offset, length);
    }

    /** Consecutive views that together cover the whole storage, each at most {@link #MAX_VIEW_BYTES}. */
    public List<ByteBuffer> chunks() throws IOException {
        List<ByteBuffer> chunks = new ArrayList<>();
        for (long at = 0; at < byteSize(); at += MAX_VIEW_BYTES) {
            chunks.add(slice(at, (int) Math.min(MAX_VIEW_BYTES, byteSize() - at)));
        }
        return chunks;
    }

    /** Copies {@code dst.remaining()} bytes starting at {@code offset} of the storage into {@code dst}. */
    public void copyTo(long offset, ByteBuffer dst) throws IOException {
        long at = offset;
        while (dst.hasRemaining()) {
            int n = Math.min(dst.remaining(), MAX_VIEW_BYTES);
            dst.put(slice(at, n));
            at += n;
        }
    }
}
