package neuron.engine.checkpoint;

import neuron.engine.nativeio.NativeFile;
import neuron.engine.nativeio.NativeMemory;
import neuron.engine.pth.PthFormatException;
import neuron.engine.pth.PthReader;
import neuron.engine.pth.PthStorage;
import neuron.engine.pth.StorageData;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * An open checkpoint file, handed to a {@link CheckpointLoader.Restorer}: its value tree (tensor leaves are
 * {@link neuron.engine.pth.PthTensor}s), its progress value, and two ways to read a storage's bytes straight into
 * the memory that is to hold them (the live tensor of a restored loop): {@link #readLater}, which a restore in place
 * uses, leaves the reads to one sequential pass over the file once the restorer returns ({@link StoragePass});
 * {@link #readInto} reads at once. Either checks every CRC-32 and leaves no file pages behind, and a restore keeps
 * no second copy of the state. Valid only while the restorer runs; the loader closes it afterwards.
 */
public final class StoredCheckpoint {
    private final PthReader reader;
    private final Map<?, ?> root;
    private final long progress;
    private final Set<PthStorage> read = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Map<PthStorage, List<StoragePass.Target>> later = new IdentityHashMap<>();
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
     * {@code storage.nbytes()} writable bytes) now, checks their CRC-32 against the file's directory and drops them
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
        StoragePass.verifyCrc(reader.file(), data, crc);
        if (n > 0) {
            try {
                in.dropCached(data.fileOffset(), n);
            } catch (IOException hintRefused) {
                // the pages stay cached until the kernel needs them: nothing about the checkpoint is wrong
            }
        }
        read.add(storage);
    }

    /**
     * Has {@code storage}'s bytes read into host memory at {@code dstAddress} (at least {@code storage.nbytes()}
     * writable bytes) once the restorer returns, in one sequential pass with every other storage, the memory
     * untouched until then. The pass checks the CRC-32 and, when {@code float32Name} is not null, that every
     * float32 value is finite (the name is the tensor's, for the error); a failure makes the whole load fail.
     */
    public void readLater(PthStorage storage, long dstAddress, String float32Name) {
        later.computeIfAbsent(storage, s -> new ArrayList<>()).add(new StoragePass.Target(dstAddress, float32Name));
    }

    /**
     * Reads what the restorer asked for with {@link #readLater} and checks every storage no restorer read at once,
     * in one pass, and the records that are no storage: every byte of the file was checked when it returns.
     */
    void finishReads() throws IOException {
        Set<String> storageRecords = new HashSet<>();
        reader.storages().forEach(d -> storageRecords.add("data/" + d.key()));
        reader.verify(record -> record.startsWith("data/") && !storageRecords.contains(record));
        List<StorageData> pending = new ArrayList<>();
        for (StorageData data : reader.storages()) {
            if (!read.contains(data.storage())) {
                pending.add(data);
            }
        }
        StoragePass.run(reader.file(), pending, later);
    }

    private NativeFile open() throws IOException {
        if (file == null) {
            file = NativeFile.openForRead(reader.file());
        }
        return file;
    }

    void close() throws IOException {
        if (file != null) {
            file.close();
        }
    }
}
