package neuron.engine.staging;

import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.RollingResourcesCache;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
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
 *
 * <p>The copier's side is a {@link StagingAppender}, the writer's a {@link StagingReader}, and the bytes of every
 * document are laid out by one codec, {@link StagingDocuments}. This class owns the queue, its cycle files and
 * which snapshots the writer has taken.
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
    /** The copier's side of {@link #queue}; replaced with it by {@link #reopen}, between snapshots. */
    private volatile StagingAppender appender;
    private final StagingReader reader;
    /** Queues replaced by {@link #reopen}, closed by the writer once it is done with them; guarded by this. */
    private final List<Runnable> retired = new ArrayList<>();
    private long claimed = -1;          // the newest snapshot the writer took; guarded by this

    private StagingQueue(Path dir, long blockSize, long expectedBytes) {
        this.dir = dir;
        this.blockSize = blockSize;
        int last = lastCycleOnDisk(dir);
        clock.cycle(last < 0 ? 0 : last);
        this.queue = build();
        this.appender = new StagingAppender(queue, clock, dir, expectedBytes);
        this.reader = new StagingReader(dir);
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
        StagingAppender oldAppender = appender;
        queue = build();
        appender = new StagingAppender(queue, clock, dir, oldAppender.expectedBytes());
        retired.add(() -> {
            oldAppender.close();
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

    /** The copy source of each storage. */
    @FunctionalInterface
    public interface StorageFiller {
        ChunkFiller forStorage(int storage);
    }

    /**
     * Stages one snapshot from the copier thread: BEGIN, the chunks of every storage in order, COMMIT. A failure
     * part-way leaves an uncommitted snapshot, which is never persisted. Returns the snapshot's sequence number.
     */
    public long stage(long step, byte[] metadata, long[] storageBytes, StorageFiller filler) {
        return appender.stage(step, metadata, storageBytes, filler);
    }

    /**
     * Opens the next cycle now, on the thread that will stage (an appender belongs to one thread), so the first
     * snapshot's pages are populated ahead.
     */
    public void prepare() {
        appender.ensureOpenCycle();
    }

    /** Whether the next snapshot's pages are populated (or there is nothing to populate). */
    public boolean populated() {
        return appender.populated();
    }

    /**
     * Writer thread, when it has nothing to persist: populates the pages of the cycle the next snapshot will
     * be copied into, once. Done here rather than right after the commit so that it does not compete with the
     * persist of the snapshot just committed for the same cores and memory bandwidth.
     */
    public void populateOpenCycle() {
        appender.populateOpenCycle();
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
     * As {@link #newestCommitted()}, and marks the snapshot as taken: {@link #dropSuperseded} leaves it (and
     * anything newer) alone until it is released.
     */
    public synchronized Optional<Committed> claimNewest() {
        closeRetired();
        Optional<Committed> found = newestCommitted();
        found.ifPresent(c -> claimed = Math.max(claimed, c.seq()));
        return found;
    }

    /**
     * Returns the newest committed snapshot newer than any returned before, if any; older committed snapshots are
     * superseded (the newest snapshot wins). Each call scans the few documents of the cycles still in staging.
     */
    public Optional<Committed> newestCommitted() {
        return reader.newestCommitted(queue);
    }

    /** Receives a committed snapshot's bytes, storage by storage, in order. */
    @FunctionalInterface
    public interface ChunkSink {
        void accept(int storage, long offsetInStorage, ByteBuffer bytes) throws IOException;
    }

    /** Streams a committed snapshot's chunks, as views of the staging memory, to {@code sink}. */
    public void stream(Committed snapshot, ChunkSink sink) throws IOException {
        reader.stream(queue, snapshot, sink);
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
        appender.close();
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
