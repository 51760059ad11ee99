package neuron.engine.checkpoint;

import neuron.engine.nativeio.NativeFile;
import neuron.engine.nativeio.NativeMemory;
import neuron.engine.pth.PthFormatException;
import neuron.engine.pth.PthReader;
import neuron.engine.pth.PthStorage;
import neuron.engine.pth.StorageData;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * An open checkpoint file, handed to a {@link CheckpointLoader.Restorer}: its value tree (tensor leaves are
 * {@link neuron.engine.pth.PthTensor}s), its progress value, and {@link #readInto}, which reads a storage's
 * bytes straight into the memory that is to hold them (the live tensor of a restored loop), checks their CRC-32
 * on the way and drops them from the page cache: a restore keeps no second copy of the state and leaves no
 * file pages behind. Valid only while the restorer runs; the loader closes it afterwards.
 */
public final class StoredCheckpoint {
    /** The bounce buffer for CRC checks of storages a restorer did not read. */
    private static final int CHECK_CHUNK = 16 << 20;
    /** Storages below this are read ahead when the restore begins; above it a read streams on its own. */
    private static final long SMALL_STORAGE = 8 << 20;
    /** At most this much is read ahead: page cache the restore's own reads then take and drop. */
    private static final long READ_AHEAD_BUDGET = 512L << 20;

    private final PthReader reader;
    private final Map<?, ?> root;
    private final long progress;
    private final Set<PthStorage> read = Collections.newSetFromMap(new IdentityHashMap<>());
    private NativeFile file;

    StoredCheckpoint(PthReader reader, Map<?, ?> root, long progress) {
        this.reader = reader;
        this.root = root;
        this.progress = progress;
    }

    public Path file() {
        return reader.file();
    }

    /** The value tree; tensor leaves are descriptors over this file's storages. */
    public Map<?, ?> root() {
        return root;
    }

    /** The value of the progress key ({@code global_step} or {@code block}); -1 when the file has none. */
    public long progress() {
        return progress;
    }

    /**
     * Reads all of {@code storage}'s bytes into host memory at {@code dstAddress} (at least
     * {@code storage.nbytes()} writable bytes), checks their CRC-32 against the file's directory and drops them
     * from the page cache. A mismatch is a {@link PthFormatException}: the file is damaged.
     */
    public void readInto(PthStorage storage, long dstAddress) throws IOException {
        StorageData data = reader.data(storage);
        long n = data.byteSize();
        NativeFile in = open();
        in.readFully(dstAddress, n, data.fileOffset());
        CRC32 crc = new CRC32();
        for (long at = 0; at < n; at += Integer.MAX_VALUE) {
            crc.update(NativeMemory.view(dstAddress + at, (int) Math.min(Integer.MAX_VALUE, n - at)));
        }
        check(data, crc);
        dropCached(in, data.fileOffset(), n);
        read.add(storage);
    }

    /** Checks the storages no restorer read, through a small buffer, so every byte of the file was checked. */
    void verifyUnread() throws IOException {
        Set<String> storageRecords = new HashSet<>();
        reader.storages().forEach(d -> storageRecords.add("data/" + d.key()));
        reader.verify(record -> record.startsWith("data/") && !storageRecords.contains(record));
        ByteBuffer bounce = null;
        long bounceAddress = 0;
        for (StorageData data : reader.storages()) {
            if (read.contains(data.storage())) {
                continue;
            }
            if (bounce == null) {
                bounce = ByteBuffer.allocateDirect(CHECK_CHUNK);
                bounceAddress = NativeMemory.address(bounce);
            }
            CRC32 crc = new CRC32();
            NativeFile in = open();
            for (long at = 0; at < data.byteSize(); at += CHECK_CHUNK) {
                int len = (int) Math.min(CHECK_CHUNK, data.byteSize() - at);
                in.readFully(bounceAddress, len, data.fileOffset() + at);
                crc.update(bounce.clear().limit(len));   // consumes the buffer; the address stays its start
            }
            check(data, crc);
            dropCached(in, data.fileOffset(), data.byteSize());
        }
    }

    private void check(StorageData data, CRC32 crc) throws PthFormatException {
        if ((int) crc.getValue() != data.crc()) {
            throw new PthFormatException(file(), String.format("CRC-32 mismatch in record data/%s: directory says "
                    + "%08x, data has %08x", data.key(), data.crc(), (int) crc.getValue()));
        }
    }

    private NativeFile open() throws IOException {
        if (file == null) {
            file = NativeFile.openForRead(reader.file());
            readAheadSmallStorages(file);
        }
        return file;
    }

    /**
     * A restorer visits storages in its own order, not the file's, and the kernel's readahead follows only large
     * sequential reads: each small storage would be a disk round trip of its own. Their reads start now, all at
     * once (bounded: small storages are a small share of a checkpoint); large ones stream through their own read.
     */
    private void readAheadSmallStorages(NativeFile in) throws IOException {
        long budget = READ_AHEAD_BUDGET;
        for (StorageData data : reader.storages()) {
            long n = data.byteSize();
            if (n > 0 && n < SMALL_STORAGE && n <= budget) {
                try {
                    in.readAhead(data.fileOffset(), n);
                } catch (IOException hintRefused) {
                    return;   // only a hint: the reads themselves still come
                }
                budget -= n;
            }
        }
    }

    /** Drops what a read left cached; a hint, so a refusal changes nothing (a length of 0 would mean to the end). */
    private static void dropCached(NativeFile in, long offset, long n) {
        if (n > 0) {
            try {
                in.dropCached(offset, n);
            } catch (IOException hintRefused) {
                // the pages stay cached until the kernel needs them: nothing about the checkpoint is wrong
            }
        }
    }

    void close() throws IOException {
        if (file != null) {
            file.close();
        }
    }
}
