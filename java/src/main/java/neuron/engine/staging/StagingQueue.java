package neuron.engine.staging;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.RollingResourcesCache;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import neuron.engine.nativeio.NativeMemory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The staging memory of checkpoints: a Chronicle Queue, on tmpfs when the machine has it, in which each
 * snapshot is a sequence of documents in a cycle file of its own.
 *
 * <p>Two threads use it. The copier thread ({@link #prepare}, {@link #stage}, {@link #dropSuperseded}) copies
 * state bytes straight into the queue's mapped memory; the writer thread ({@link #claimNewest}, {@link #stream},
 * {@link #release}) reads committed snapshots back as ByteBuffer views of the same memory and gives each cycle
 * file back once it is persisted. A committed snapshot the writer has not claimed is dropped as soon as a newer
 * one commits, so staging holds at most three: one being persisted, one waiting, one being copied.
 * Right after a commit the next snapshot's cycle is opened; the writer thread populates its pages once it has
 * persisted, so the next pause is one copy into warm memory, not a page fault per 4 KiB.
 */
public final class StagingQueue implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StagingQueue.class);
    private static final RollCycles ROLL_CYCLE = RollCycles.FIVE_MINUTELY;
    /** Chronicle's own names of cycle files, for listing and deleting them. */
    private static final RollingResourcesCache CYCLE_NAMES = new RollingResourcesCache(ROLL_CYCLE, 0,
            name -> new File(name + SingleChronicleQueue.SUFFIX),
            file -> file.getName().substring(0, file.getName().length() - SingleChronicleQueue.SUFFIX.length()));
    private static final long MIN_BLOCK = 64L << 20;

    private final Path dir;
    private final SnapshotClock clock = new SnapshotClock(ROLL_CYCLE);
    private final long blockSize;
    private volatile SingleChronicleQueue queue;
    /** Queues replaced by {@link #reopen}, closed by the writer once it is done with them; guarded by this. */
    private final List<Runnable> retired = new ArrayList<>();
    private final long chunkBytes;
    /** Pages of an open cycle: to be populated by the writer ({@link #toPopulate}), or populated. */
    private record Pages(long cycle, long address, long length) {
        boolean contain(long cycle, long from, long bytes) {
            return this.cycle == cycle && from >= address && from + bytes <= address + length;
        }
    }

    private final AtomicReference<Pages> toPopulate = new AtomicReference<>();
    private volatile Pages populated;
    private ExcerptAppender appender;   // copier thread only (reset by reopen, between snapshots)
    private Committed newest;           // writer thread only
    private long claimed = -1;          // the newest snapshot the writer took; guarded by this
    private volatile long expectedBytes;

    private StagingQueue(Path dir, long blockSize, long expectedBytes) {
        this.dir = dir;
        this.expectedBytes = expectedBytes;
        this.blockSize = blockSize;
        int last = lastCycleOnDisk(dir);
        clock.cycle(last < 0 ? 0 : last);
        this.queue = build();
        // A document may be at most the queue's overlap (a quarter block); stay well inside it.
        this.chunkBytes = Math.min(64L << 20, queue.overlapSize() / 2);
    }

    private SingleChronicleQueue build() {
        return SingleChronicleQueueBuilder.binary(dir.toFile())
                .rollCycle(ROLL_CYCLE)
                .timeProvider(clock)
                .blockSize(blockSize)
                .build();
    }

    /**
     * Opens (or creates) the staging queue in {@code dir}, sized for snapshots of about {@code snapshotBytes}.
     * Snapshots left by a previous process stay readable: the writer persists a committed one on start-up.
     */
    public static StagingQueue open(Path dir, long snapshotBytes) throws IOException {
        Files.createDirectories(dir);
        deleteHeaderless(dir);
        // One mapping per cycle holds a whole snapshot, so populating it ahead covers every copy.
        long block = MIN_BLOCK;
        while (block < snapshotBytes + (snapshotBytes >> 3) + (1 << 20)) {
            block <<= 1;
        }
        return new StagingQueue(dir, block, snapshotBytes);
    }

    public Path dir() {
        return dir;
    }

    /** Bytes free on the staging file system. */
    public long usableSpace() {
        return dir.toFile().getUsableSpace();
    }

    /** Whether the staging directory is gone: deleted while the queue was open. */
    public boolean directoryGone() {
        return !Files.isDirectory(dir);
    }

    /**
     * After the directory was deleted while open: creates it again and opens a fresh queue in it, so snapshots
     * go on (whatever the old directory held is lost). Call between snapshots, when no copy is in flight; the
     * copier's next {@link #stage} opens its appender on the new queue, and the writer closes the old queue at its
     * next look for work, once it no longer streams from it.
     */
    public synchronized void reopen() throws IOException {
        PrivateDirectory.require(dir, "staging directory");
        SingleChronicleQueue old = queue;
        ExcerptAppender oldAppender = appender;
        queue = build();
        appender = null;
        toPopulate.set(null);
        populated = null;
        retired.add(() -> {
            if (oldAppender != null) {
                oldAppender.close();
            }
            old.close();
        });
    }

    /** Writer thread, between persists: closes the queues {@link #reopen} replaced. */
    private synchronized void closeRetired() {
        retired.forEach(Runnable::run);
        retired.clear();
    }

    // ------------------------------------------------------------------ copier thread

    /** Fills {@code length} bytes at {@code dstAddress}: the snapshot copy of one chunk of one storage. */
    @FunctionalInterface
    public interface ChunkFiller {
        void fill(long dstAddress, long offsetInStorage, long length);
    }

    /**
     * Stages one snapshot from the copier thread: BEGIN, the chunks of every storage in order, COMMIT. A failure
     * part-way leaves an uncommitted snapshot, which is never persisted. Returns the snapshot's sequence number.
     */
    public long stage(long step, byte[] metadata, long[] storageBytes, StorageFiller filler) {
        ensureOpenCycle();
        long seq = clock.cycle();
        long total = 0;
        try (DocumentContext dc = appender.writingDocument()) {
            Bytes<?> b = dc.wire().bytes();
            b.writeByte((byte) DocType.BEGIN.ordinal());
            b.writeLong(seq);
            b.writeLong(step);
            b.writeInt(storageBytes.length);
            for (long n : storageBytes) {
                b.writeLong(n);
            }
            b.writeInt(metadata.length);
            b.write(metadata);
        }
        try (ChunkDocuments chunks = new ChunkDocuments(seq)) {
            for (int storage = 0; storage < storageBytes.length; storage++) {
                chunks.copy(storage, storageBytes[storage], filler.forStorage(storage));
                total += storageBytes[storage];
            }
        }
        try (DocumentContext dc = appender.writingDocument()) {
            Bytes<?> b = dc.wire().bytes();
            b.writeByte((byte) DocType.COMMIT.ordinal());
            b.writeLong(seq);
            b.writeLong(total);
        }
        expectedBytes = total;
        openNextCycle();
        return seq;
    }

    /** The copy source of each storage. */
    @FunctionalInterface
    public interface StorageFiller {
        ChunkFiller forStorage(int storage);
    }

    /**
     * The CHUNK documents of one snapshot, each up to {@code chunkBytes} and holding segments of one or more
     * storages ({@code storage, offset, length, bytes}), so a model's many small tensors cost a few documents,
     * not one each.
     */
    private final class ChunkDocuments implements AutoCloseable {
        private static final int SEGMENT_HEADER = 4 + 8 + 8;

        private final long seq;
        private DocumentContext dc;
        private long countPosition;
        private int segments;
        private long room;

        ChunkDocuments(long seq) {
            this.seq = seq;
        }

        void copy(int storage, long size, ChunkFiller filler) {
            for (long offset = 0; offset < size; ) {
                if (dc == null || room <= SEGMENT_HEADER) {
                    finishDocument();
                    startDocument();
                }
                long len = Math.min(size - offset, room - SEGMENT_HEADER);
                try {
                    Bytes<?> b = dc.wire().bytes();
                    b.writeInt(storage);
                    b.writeLong(offset);
                    b.writeLong(len);
                    // A raw copy past the document's limit would write outside the mapping: check first.
                    if (len > b.writeRemaining()) {
                        throw new IllegalStateException("staging chunk of " + len + " bytes exceeds the queue's "
                                + "limit " + b.writeRemaining());
                    }
                    long dst = b.addressForWrite(b.writePosition());
                    ensureBacked(dst, len);
                    filler.fill(dst, offset, len);
                    b.writeSkip(len);
                } catch (RuntimeException | Error e) {
                    dc.rollbackOnClose();
                    dc.close();
                    dc = null;
                    throw e;
                }
                segments++;
                room -= SEGMENT_HEADER + len;
                offset += len;
            }
        }

        /**
         * On a full tmpfs a raw copy into pages that are not backed yet would kill the JVM with SIGBUS. Pages the
         * writer populated ahead are backed; any others are populated here first, which fails with an error.
         */
        private void ensureBacked(long dst, long len) {
            Pages ahead = populated;
            if (ahead != null && ahead.contain(seq, dst, len)) {
                return;
            }
            int rc = NativeMemory.populateForWrite(dst, len);
            if (rc != 0) {
                throw new IllegalStateException("staging memory in " + dir + " cannot be allocated: "
                        + NativeMemory.describe(rc));
            }
        }

        private void startDocument() {
            dc = appender.writingDocument();
            Bytes<?> b = dc.wire().bytes();
            b.writeByte((byte) DocType.CHUNK.ordinal());
            b.writeLong(seq);
            countPosition = b.writePosition();
            b.writeInt(0);
            segments = 0;
            room = chunkBytes;
        }

        private void finishDocument() {
            if (dc != null) {
                dc.wire().bytes().writeInt(countPosition, segments);
                dc.close();
                dc = null;
            }
        }

        @Override
        public void close() {
            finishDocument();
        }
    }

    private void ensureOpenCycle() {
        if (appender == null) {
            appender = queue.createAppender();
            // Start after whatever a previous process left, in a fresh cycle.
            clock.cycle(Math.max(clock.cycle(), queue.lastCycle()) + 1);
            writeOpen();
        }
    }

    /** Moves to the next snapshot's cycle (the writer populates its pages, see {@link #populateOpenCycle}). */
    private void openNextCycle() {
        clock.cycle(clock.cycle() + 1);
        writeOpen();
    }

    private void writeOpen() {
        long address;
        try (DocumentContext dc = appender.writingDocument()) {
            Bytes<?> b = dc.wire().bytes();
            b.writeByte((byte) DocType.OPEN.ordinal());
            b.writeLong(clock.cycle());
            address = b.addressForWrite(b.writePosition());
        }
        long bytes = expectedBytes + (expectedBytes >> 4) + (1 << 20);
        toPopulate.set(new Pages(clock.cycle(), address, Math.min(bytes, queue.blockSize())));
    }

    /** Whether the next snapshot's pages are populated (or there is nothing to populate). */
    public boolean populated() {
        return toPopulate.get() == null;
    }

    /**
     * Writer thread, when it has nothing to persist: populates the pages of the cycle the next snapshot will
     * be copied into, once. Done here rather than right after the commit so that it does not compete with the
     * persist of the snapshot just committed for the same cores and memory bandwidth.
     */
    public void populateOpenCycle() {
        Pages pages = toPopulate.get();
        if (pages == null) {
            return;
        }
        int rc = NativeMemory.populateForWrite(pages.address(), pages.length());
        if (rc == 0) {
            populated = pages;
        } else {
            LOG.warn("staging: cannot populate the next snapshot's pages in {}: {}", dir, NativeMemory.describe(rc));
        }
        // A cycle opened meanwhile keeps its own pages, to be populated next time.
        toPopulate.compareAndSet(pages, null);
    }

    /**
     * Opens the next cycle now, on the thread that will stage (an appender belongs to one thread), so the first
     * snapshot's pages are populated ahead.
     */
    public void prepare() {
        ensureOpenCycle();
    }

    /**
     * Gives back the staging memory of committed snapshots older than {@code seq} that the writer has not taken:
     * the newest snapshot supersedes them. Returns their sequence numbers.
     */
    public synchronized List<Long> dropSuperseded(long seq) {
        List<Long> dropped = new ArrayList<>();
        for (CycleFile f : cycleFiles(dir)) {
            if (f.cycle() > claimed && f.cycle() < seq) {
                if (f.file().delete()) {
                    dropped.add((long) f.cycle());
                } else {
                    LOG.warn("staging: could not delete {}", f.file());
                }
            }
        }
        return dropped;
    }

    // ------------------------------------------------------------------ writer thread

    /** A committed snapshot in the queue. */
    public record Committed(long seq, long step, long beginIndex, long[] storageBytes, byte[] metadata) {
        public long totalBytes() {
            long t = 0;
            for (long n : storageBytes) {
                t += n;
            }
            return t;
        }
    }

    /**
     * Returns the newest committed snapshot newer than any returned before, if any; older committed snapshots are
     * superseded (the newest snapshot wins). Each call scans the few documents of the cycles still in staging
     * from the start, with a fresh tailer: a long-lived one could be left on a cycle file {@link #release} deleted.
     */
    /**
     * As {@link #newestCommitted()}, and marks the snapshot as taken: {@link #dropSuperseded} leaves it (and
     * anything newer) alone until it is released.
     */
    public synchronized Optional<Committed> claimNewest() {
        closeRetired();
        Optional<Committed> found = newestCommitted();
        found.ifPresent(c -> claimed = Math.max(claimed, c.seq()));
        return found;
    }

    public Optional<Committed> newestCommitted() {
        // The queue's clock is the snapshot counter, not wall time, so its cached listing of cycle files
        // would not expire by itself: refresh it to see the cycle of a snapshot just committed.
        queue.refreshDirectoryListing();
        Committed begun = null;
        Committed found = null;
        try (ExcerptTailer tailer = queue.createTailer()) {
            while (true) {
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (!dc.isPresent()) {
                        break;
                    }
                    Bytes<?> b = dc.wire().bytes();
                    DocType type = DocType.of(b.readByte());
                    long seq = b.readLong();
                    if (type == DocType.BEGIN) {
                        begun = readBegin(b, seq, dc.index());
                    } else if (type == DocType.COMMIT && begun != null && begun.seq() == seq
                            && (newest == null || seq > newest.seq())) {
                        found = begun;
                    }
                }
            }
        }
        if (found != null) {
            newest = found;
        }
        return Optional.ofNullable(found);
    }

    private static Committed readBegin(Bytes<?> b, long seq, long index) {
        long step = b.readLong();
        long[] sizes = new long[b.readInt()];
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = b.readLong();
        }
        byte[] meta = new byte[b.readInt()];
        b.read(meta);
        return new Committed(seq, step, index, sizes, meta);
    }

    /** Receives a committed snapshot's bytes, storage by storage, in order. */
    @FunctionalInterface
    public interface ChunkSink {
        void accept(int storage, long offsetInStorage, ByteBuffer bytes) throws IOException;
    }

    /** Streams a committed snapshot's chunks, as views of the staging memory, to {@code sink}. */
    public void stream(Committed snapshot, ChunkSink sink) throws IOException {
        try (ExcerptTailer tailer = queue.createTailer()) {
            if (!tailer.moveToIndex(snapshot.beginIndex())) {
                throw new IOException("staged snapshot " + snapshot.seq() + " is gone from " + dir);
            }
            while (true) {
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (!dc.isPresent()) {
                        throw new IOException("staged snapshot " + snapshot.seq() + " ends before its commit");
                    }
                    Bytes<?> b = dc.wire().bytes();
                    DocType type = DocType.of(b.readByte());
                    long seq = b.readLong();
                    if (seq != snapshot.seq()) {
                        continue;
                    }
                    if (type == DocType.COMMIT) {
                        return;
                    }
                    if (type == DocType.CHUNK) {
                        for (int segments = b.readInt(); segments > 0; segments--) {
                            int storage = b.readInt();
                            long offset = b.readLong();
                            int len = Math.toIntExact(b.readLong());
                            long address = b.addressForRead(b.readPosition(), len);
                            sink.accept(storage, offset, NativeMemory.view(address, len));
                            b.readSkip(len);
                        }
                    }
                }
            }
        }
    }

    /**
     * Gives back the staging memory of every snapshot up to and including {@code seq}: their cycle files are
     * deleted, except the cycle the loop is about to write.
     */
    public synchronized void release(long seq) {
        long keepFrom = Math.min(seq + 1, clock.cycle());
        for (CycleFile f : cycleFiles(dir)) {
            if (f.cycle() < keepFrom && !f.file().delete()) {
                LOG.warn("staging: could not delete {}", f.file());
            }
        }
        queue.refreshDirectoryListing();
    }

    @Override
    public void close() {
        if (appender != null) {
            appender.close();
        }
        queue.close();
        closeRetired();
    }

    /**
     * Closes the queue and deletes its cycle files: for a clean stop, when every committed snapshot is persisted.
     * Otherwise the populated cycle of the next snapshot would hold a state's worth of tmpfs memory after exit.
     */
    public void closeAndClear() {
        close();
        for (CycleFile f : cycleFiles(dir)) {
            if (!f.file().delete()) {
                LOG.warn("staging: could not delete {}", f.file());
            }
        }
    }

    // ------------------------------------------------------------------ cycle files

    record CycleFile(int cycle, File file) {
    }

    /** The cycle files in {@code dir}, named and parsed by Chronicle's own roll-cycle naming. */
    static List<CycleFile> cycleFiles(Path dir) {
        List<CycleFile> out = new ArrayList<>();
        File[] files = dir.toFile().listFiles((d, name) -> name.endsWith(SingleChronicleQueue.SUFFIX));
        if (files == null) {
            return out;
        }
        for (File f : files) {
            try {
                out.add(new CycleFile(CYCLE_NAMES.toLong(f).intValue(), f));
            } catch (RuntimeException notACycle) {
                // not one of ours; leave it
            }
        }
        return out;
    }

    /**
     * Deletes cycle files without a queue header: a kill while Chronicle created one leaves it empty, and it can
     * hold no committed snapshot, but the queue would refuse to append after it.
     */
    private static void deleteHeaderless(Path dir) throws IOException {
        for (CycleFile f : cycleFiles(dir)) {
            boolean headerless;
            try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(f.file(), "r")) {
                headerless = raf.length() < 4 || raf.readInt() == 0;
            }
            if (headerless) {
                LOG.warn("staging: deleting {}, a cycle file left without a header", f.file());
                Files.delete(f.file().toPath());
            }
        }
    }

    private static int lastCycleOnDisk(Path dir) {
        return cycleFiles(dir).stream().mapToInt(CycleFile::cycle).max().orElse(-1);
    }
}
