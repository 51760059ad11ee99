package neuron.engine.staging;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import neuron.engine.nativeio.NativeMemory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The copier thread's side of one staging queue: writes each snapshot, BEGIN, its chunks, COMMIT, into a cycle of
 * its own, copying state bytes straight into the queue's mapped memory, then opens the next snapshot's cycle so
 * the writer thread can populate its pages ahead ({@link #populateOpenCycle}).
 */
final class StagingAppender implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StagingQueue.class);

    /** Pages of an open cycle: to be populated by the writer ({@link #toPopulate}), or populated. */
    private record Pages(long cycle, long address, long length) {
        boolean contain(long cycle, long from, long bytes) {
            return this.cycle == cycle && from >= address && from + bytes <= address + length;
        }
    }

    private final SingleChronicleQueue queue;
    private final SnapshotClock clock;
    private final Path dir;
    private final long chunkBytes;
    private final AtomicReference<Pages> toPopulate = new AtomicReference<>();
    private volatile Pages populated;
    private volatile long expectedBytes;
    private ExcerptAppender appender;   // copier thread only

    StagingAppender(SingleChronicleQueue queue, SnapshotClock clock, Path dir, long expectedBytes) {
        this.queue = queue;
        this.clock = clock;
        this.dir = dir;
        this.expectedBytes = expectedBytes;
        // A document may be at most the queue's overlap (a quarter block); stay well inside it.
        this.chunkBytes = Math.min(64L << 20, queue.overlapSize() / 2);
    }

    /** The size of the last snapshot staged: what the next one's pages are populated for. */
    long expectedBytes() {
        return expectedBytes;
    }

    /** See {@link StagingQueue#stage}. */
    long stage(long step, byte[] metadata, long[] storageBytes, StagingQueue.StorageFiller filler) {
        ensureOpenCycle();
        long seq = clock.cycle();
        long total = 0;
        try (DocumentContext dc = appender.writingDocument()) {
            StagingDocuments.writeBegin(dc.wire().bytes(), seq, step, storageBytes, metadata);
        }
        try (ChunkDocuments chunks = new ChunkDocuments(seq)) {
            for (int storage = 0; storage < storageBytes.length; storage++) {
                chunks.copy(storage, storageBytes[storage], filler.forStorage(storage));
                total += storageBytes[storage];
            }
        }
        try (DocumentContext dc = appender.writingDocument()) {
            StagingDocuments.writeCommit(dc.wire().bytes(), seq, total);
        }
        expectedBytes = total;
        openNextCycle();
        return seq;
    }

    /**
     * The CHUNK documents of one snapshot, each up to {@code chunkBytes} and holding segments of one or more
     * storages, so a model's many small tensors cost a few documents, not one each.
     */
    private final class ChunkDocuments implements AutoCloseable {
        private final long seq;
        private DocumentContext dc;
        private long countPosition;
        private int segments;
        private long room;

        ChunkDocuments(long seq) {
            this.seq = seq;
        }

        void copy(int storage, long size, StagingQueue.ChunkFiller filler) {
            for (long offset = 0; offset < size; ) {
                if (dc == null || room <= StagingDocuments.SEGMENT_HEADER) {
                    finishDocument();
                    startDocument();
                }
                long len = Math.min(size - offset, room - StagingDocuments.SEGMENT_HEADER);
                try {
                    Bytes<?> b = dc.wire().bytes();
                    StagingDocuments.writeSegmentHeader(b, storage, offset, len);
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
                room -= StagingDocuments.SEGMENT_HEADER + len;
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
            countPosition = StagingDocuments.writeChunkStart(dc.wire().bytes(), seq);
            segments = 0;
            room = chunkBytes;
        }

        private void finishDocument() {
            if (dc != null) {
                StagingDocuments.writeSegmentCount(dc.wire().bytes(), countPosition, segments);
                dc.close();
                dc = null;
            }
        }

        @Override
        public void close() {
            finishDocument();
        }
    }

    /** Opens the next snapshot's cycle now, on the thread that will stage (an appender belongs to one thread). */
    void ensureOpenCycle() {
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
            StagingDocuments.writeOpen(b, clock.cycle());
            address = b.addressForWrite(b.writePosition());
        }
        long bytes = expectedBytes + (expectedBytes >> 4) + (1 << 20);
        toPopulate.set(new Pages(clock.cycle(), address, Math.min(bytes, queue.blockSize())));
    }

    /** Whether the next snapshot's pages are populated (or there is nothing to populate). */
    boolean populated() {
        return toPopulate.get() == null;
    }

    /** Writer thread: populates the pages of the cycle the next snapshot will be copied into, once. */
    void populateOpenCycle() {
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

    @Override
    public void close() {
        if (appender != null) {
            appender.close();
        }
    }
}
