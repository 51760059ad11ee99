package neuron.engine.pth;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * Streams a {@code torch.save} file (pth-format.md) to an {@link ArchiveSink}.
 * <p>Lifecycle: the constructor pickles the value tree and writes {@code data.pkl}, {@code .format_version},
 * {@code .storage_alignment} and {@code byteorder}; then, for each storage of {@link #storages()} in that order,
 * {@link #beginStorage} and any number of {@link #writeStorageBytes} chunks that add up to its
 * {@link PthStorage#nbytes()}; then {@link #finish()} writes {@code version}, {@code .data/serialization_id} and
 * the zip64 central directory. Storage bytes never enter the heap: each chunk goes from the caller's buffer
 * (heap, direct or mapped) to the sink, its CRC-32 computed on the way. Bytes are taken as little-endian.
 * Not thread-safe. Misuse (wrong storage, too many or too few bytes) throws {@link IllegalStateException}.
 */
public final class PthWriter {
    private final ZipStreamWriter zip;
    private final List<PthStorage> storages;
    private int begun;
    private boolean finished;

    public PthWriter(ArchiveSink sink, String archiveName, Object root) throws IOException {
        this(sink, archiveName, Pickled.of(root));
    }

    /** As above, from a tree pickled earlier (the checkpoint pipeline pickles on the loop's thread). */
    public PthWriter(ArchiveSink sink, String archiveName, Pickled pickled) throws IOException {
        this.storages = pickled.storages();
        this.zip = new ZipStreamWriter(sink, archiveName);
        zip.writeRecord("data.pkl", ByteBuffer.wrap(pickled.bytes()));
        zip.writeRecord(".format_version", ascii("1"));
        zip.writeRecord(".storage_alignment", ascii(Integer.toString(ZipStreamWriter.ALIGNMENT)));
        zip.writeRecord("byteorder", ascii("little"));
    }

    /**
     * The archive name PyTorch derives from a target path (pth-format.md §2): the file name without its last
     * extension, or {@code archive} when that is empty or not ASCII (Python passes such paths as file objects).
     */
    public static String archiveName(Path file) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot >= 0 ? name.substring(0, dot) : name;
        boolean ascii = stem.chars().allMatch(c -> c < 0x80);
        return stem.isEmpty() || !ascii ? "archive" : stem;
    }

    /** The storages in key order ("0", "1", ...: first encounter in the tree); stream them in this order. */
    public List<PthStorage> storages() {
        return storages;
    }

    /** Bytes written to the sink so far. */
    public long bytesWritten() {
        return zip.position();
    }

    /** Opens the record of the next storage, which must be {@code storage}. A storage of 0 bytes is complete at once. */
    public void beginStorage(PthStorage storage) throws IOException {
        if (finished || begun == storages.size() || storages.get(begun) != storage) {
            throw new IllegalStateException("expected " + (finished || begun == storages.size()
                    ? "no more storages" : "storage " + begun + " " + storages.get(begun)) + ", got " + storage);
        }
        zip.beginRecord("data/" + begun, storage.nbytes());
        begun++;
        closeIfComplete();
    }

    /** Streams the next chunk of the open storage; its remaining bytes are consumed. */
    public void writeStorageBytes(ByteBuffer chunk) throws IOException {
        zip.writeData(chunk);
        closeIfComplete();
    }

    private void closeIfComplete() throws IOException {
        if (zip.recordOpen() && zip.openRemaining() == 0) {
            zip.endRecord();
        }
    }

    /** Writes the closing records and the central directory; the sink is left open for the caller. */
    public void finish() throws IOException {
        if (finished || begun < storages.size() || zip.recordOpen()) {
            throw new IllegalStateException(finished ? "already finished"
                    : "storages not fully written: " + begun + " of " + storages.size() + " begun"
                    + (zip.recordOpen() ? ", the last short by " + zip.openRemaining() + " bytes" : ""));
        }
        finished = true;
        zip.writeRecord("version", ascii("3\n"));
        zip.writeRecord(".data/serialization_id", ascii(zip.serializationId()));
        zip.finish();
    }

    /** Writes a whole file whose storage bytes {@code bytesOf} supplies (for tools and tests; read from position to limit). */
    public static void write(Path file, Object root, Function<PthStorage, ByteBuffer> bytesOf) throws IOException {
        try (FileChannelSink sink = FileChannelSink.create(file)) {
            PthWriter writer = new PthWriter(sink, archiveName(file), root);
            for (PthStorage storage : writer.storages()) {
                writer.beginStorage(storage);
                if (storage.nbytes() > 0) {
                    writer.writeStorageBytes(bytesOf.apply(storage).duplicate());
                }
            }
            writer.finish();
        }
    }

    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }
}
