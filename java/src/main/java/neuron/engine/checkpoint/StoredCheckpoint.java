package neuron.engine.checkpoint;

import neuron.engine.nativeio.NativeFile;
import neuron.engine.nativeio.NativeMemory;
import neuron.engine.pth.PthFormatException;
import neuron.engine.pth.PthReader;
import neuron.engine.pth.PthStorage;
import neuron.engine.pth.StorageData;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * An open checkpoint file, handed to a {@link CheckpointLoader.Restorer}: its value tree (tensor leaves are
 * {@link neuron.engine.pth.PthTensor}s), its progress value, and {@link #readInto}, which reads a storage's bytes
 * straight into the memory that is to hold them (the live tensor of a restored loop) and checks them. Reads go
 * through one sequential pass over the file ({@link StoragePass}) while the restorer asks for storages in file
 * order, and straight to the storage when it goes back: either way a restore keeps no second copy of the state
 * and leaves no file pages behind. Valid only while the restorer runs; the loader closes it afterwards.
 */
public final class StoredCheckpoint {
    private final PthReader reader;
    private final Map<?, ?> root;
    private final long progress;
    private final Set<PthStorage> read = Collections.newSetFromMap(new IdentityHashMap<>());
    private StoragePass pass;
    private boolean passStarted;
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
     * {@code storage.nbytes()} writable bytes) and checks their CRC-32 against the file's directory. A mismatch is
     * a {@link PthFormatException}: the file is damaged.
     */
    public void readInto(PthStorage storage, long dstAddress) throws IOException {
        readInto(storage, dstAddress, null);
    }

    /**
     * As {@link #readInto(PthStorage, long)}, and when {@code float32Name} is not null, checks that every value (a
     * float32) is finite, in the same pass over the bytes; a NaN or an infinity is a {@link PthFormatException}
     * naming {@code float32Name}.
     */
    public void readInto(PthStorage storage, long dstAddress, String float32Name) throws IOException {
        StoragePass p = pass();
        if (p == null || !p.deliver(storage, new StoragePass.Target(dstAddress, float32Name))) {
            readDirectly(storage, dstAddress, float32Name);
        }
        read.add(storage);
    }

    /** A storage the pass went by: one read of its own, its pages dropped after. */
    private void readDirectly(PthStorage storage, long dstAddress, String float32Name) throws IOException {
        StorageData data = reader.data(storage);
        long n = data.byteSize();
        NativeFile in = open();
        in.readFully(dstAddress, n, data.fileOffset());
        CRC32 crc = new CRC32();
        for (long at = 0; at < n; at += Integer.MAX_VALUE) {
            crc.update(NativeMemory.view(dstAddress + at, (int) Math.min(Integer.MAX_VALUE, n - at)));
        }
        StoragePass.verifyCrc(reader.file(), data, crc);
        if (float32Name != null) {
            StoragePass.requireFinite(reader.file(), float32Name, dstAddress, n);
        }
        if (n > 0) {
            try {
                in.dropCached(data.fileOffset(), n);
            } catch (IOException hintRefused) {
                // the pages stay cached until the kernel needs them: nothing about the checkpoint is wrong
            }
        }
    }

    /** The pass, started at the first read: a restorer that reads nothing costs no read-ahead. */
    private StoragePass pass() throws IOException {
        if (!passStarted) {
            passStarted = true;
            pass = StoragePass.start(reader.file(), reader.storages()).orElse(null);
        }
        return pass;
    }

    /**
     * Checks the storages no restorer read, in the pass or, where there was none, in one of their own, and the
     * records that are no storage: every byte of the file was checked when it returns.
     */
    void finishReads() throws IOException {
        Set<String> storageRecords = new HashSet<>();
        reader.storages().forEach(d -> storageRecords.add("data/" + d.key()));
        reader.verify(record -> record.startsWith("data/") && !storageRecords.contains(record));
        StoragePass p = pass();
        if (p != null) {
            p.finish();
        }
        // What the pass went by before it was asked for was read on its own and checked then; the rest it checked.
    }

    private NativeFile open() throws IOException {
        if (file == null) {
            file = NativeFile.openForRead(reader.file());
        }
        return file;
    }

    void close() throws IOException {
        try (NativeFile f = file; StoragePass p = pass) {
            file = null;
            pass = null;
        }
    }
}
