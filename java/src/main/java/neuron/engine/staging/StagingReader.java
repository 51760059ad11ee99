package neuron.engine.staging;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The writer thread's side of the staging queue: finds committed snapshots and streams their chunks back as
 * views of the queue's memory. Each call uses a fresh tailer: a long-lived one could be left on a cycle file that
 * was deleted once its snapshot persisted.
 */
final class StagingReader {
    private final Path dir;
    private StagingQueue.Committed newest;   // writer thread only

    StagingReader(Path dir) {
        this.dir = dir;
    }

    /** See {@link StagingQueue#newestCommitted}. */
    Optional<StagingQueue.Committed> newestCommitted(SingleChronicleQueue queue) {
        // The queue's clock is the snapshot counter, not wall time, so its cached listing of cycle files
        // would not expire by itself: refresh it to see the cycle of a snapshot just committed.
        queue.refreshDirectoryListing();
        StagingQueue.Committed begun = null;
        StagingQueue.Committed found = null;
        try (ExcerptTailer tailer = queue.createTailer()) {
            while (true) {
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (!dc.isPresent()) {
                        break;
                    }
                    Bytes<?> b = dc.wire().bytes();
                    DocType type = StagingDocuments.readType(b);
                    long seq = StagingDocuments.readSeq(b);
                    if (type == DocType.BEGIN) {
                        begun = StagingDocuments.readBegin(b, seq, dc.index());
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

    /** See {@link StagingQueue#stream}. */
    void stream(SingleChronicleQueue queue, StagingQueue.Committed snapshot, StagingQueue.ChunkSink sink)
            throws IOException {
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
                    DocType type = StagingDocuments.readType(b);
                    if (StagingDocuments.readSeq(b) != snapshot.seq()) {
                        continue;
                    }
                    if (type == DocType.COMMIT) {
                        return;
                    }
                    if (type == DocType.CHUNK) {
                        StagingDocuments.readSegments(b, sink);
                    }
                }
            }
        }
    }
}
