package neuron.engine.staging;

import net.openhft.chronicle.bytes.Bytes;
import neuron.engine.nativeio.NativeMemory;

import java.io.IOException;

/**
 * The one codec of the staging queue's documents ({@link DocType}): every byte the appender writes and the reader
 * reads is laid out here. Each document starts with its type and the snapshot's sequence number.
 */
final class StagingDocuments {
    /** A CHUNK segment's header: storage index, offset in the storage, length. */
    static final int SEGMENT_HEADER = 4 + 8 + 8;

    private StagingDocuments() {
    }

    /** OPEN: the cycle of the next snapshot. */
    static void writeOpen(Bytes<?> b, long cycle) {
        b.writeByte((byte) DocType.OPEN.ordinal());
        b.writeLong(cycle);
    }

    /** BEGIN: the snapshot's step, its storages' sizes and the caller's metadata. */
    static void writeBegin(Bytes<?> b, long seq, long step, long[] storageBytes, byte[] metadata) {
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

    /** The start of a CHUNK; returns where its segment count goes, for {@link #writeSegmentCount}. */
    static long writeChunkStart(Bytes<?> b, long seq) {
        b.writeByte((byte) DocType.CHUNK.ordinal());
        b.writeLong(seq);
        long countPosition = b.writePosition();
        b.writeInt(0);
        return countPosition;
    }

    /** A segment's header; its {@code length} bytes follow, copied in place by the caller. */
    static void writeSegmentHeader(Bytes<?> b, int storage, long offset, long length) {
        b.writeInt(storage);
        b.writeLong(offset);
        b.writeLong(length);
    }

    static void writeSegmentCount(Bytes<?> b, long countPosition, int segments) {
        b.writeInt(countPosition, segments);
    }

    /** COMMIT: the snapshot's total payload bytes. */
    static void writeCommit(Bytes<?> b, long seq, long totalBytes) {
        b.writeByte((byte) DocType.COMMIT.ordinal());
        b.writeLong(seq);
        b.writeLong(totalBytes);
    }

    /** Reads a document's type; its sequence number ({@link #readSeq}) comes next. */
    static DocType readType(Bytes<?> b) {
        return DocType.of(b.readByte());
    }

    static long readSeq(Bytes<?> b) {
        return b.readLong();
    }

    /** The rest of a BEGIN, after its type and {@code seq}; {@code index} is where it sits in the queue. */
    static StagingQueue.Committed readBegin(Bytes<?> b, long seq, long index) {
        long step = b.readLong();
        long[] sizes = new long[b.readInt()];
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = b.readLong();
        }
        byte[] meta = new byte[b.readInt()];
        b.read(meta);
        return new StagingQueue.Committed(seq, step, index, sizes, meta);
    }

    /** The rest of a CHUNK, after its type and seq: each segment, as a view of the queue's memory. */
    static void readSegments(Bytes<?> b, StagingQueue.ChunkSink sink) throws IOException {
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
