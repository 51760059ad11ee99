package neuron.engine.staging;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import neuron.engine.nativeio.NativeMemory;
import org.bytedeco.javacpp.BytePointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The bytes of each staging document, pinned: a queue staged by an earlier build must read in this one. */
class StagingDocumentsTest {
    @TempDir
    Path dir;

    @Test
    void documentsKeepTheirLayout() throws Exception {
        long seq;
        try (BytePointer first = new BytePointer(new byte[]{10, 11, 12});
             BytePointer second = new BytePointer(new byte[]{20, 21});
             StagingQueue q = StagingQueue.open(dir, 4096)) {
            BytePointer[] storages = {first, second};
            seq = q.stage(7, new byte[]{9, 8}, new long[]{3, 2}, storage -> (dst, off, len) ->
                    NativeMemory.copy(dst, storages[storage].address() + off, len, 1));
        }
        List<byte[]> docs = new ArrayList<>();
        try (SingleChronicleQueue raw = SingleChronicleQueueBuilder.binary(dir.toFile())
                .rollCycle(RollCycles.FIVE_MINUTELY).readOnly(true).build();
             ExcerptTailer tailer = raw.createTailer()) {
            while (true) {
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (!dc.isPresent()) {
                        break;
                    }
                    Bytes<?> b = dc.wire().bytes();
                    byte[] doc = new byte[(int) b.readRemaining()];
                    b.read(doc);
                    docs.add(doc);
                }
            }
        }
        assertEquals(5, docs.size(), "OPEN BEGIN CHUNK COMMIT, then the next snapshot's OPEN");
        assertArrayEquals(doc(1 + 8).put((byte) 0).putLong(seq).array(), docs.get(0), "OPEN");
        assertArrayEquals(doc(1 + 8 + 8 + 4 + 2 * 8 + 4 + 2).put((byte) 1).putLong(seq).putLong(7).putInt(2)
                .putLong(3).putLong(2).putInt(2).put(new byte[]{9, 8}).array(), docs.get(1), "BEGIN");
        assertArrayEquals(doc(1 + 8 + 4 + 2 * (4 + 8 + 8) + 5).put((byte) 2).putLong(seq).putInt(2)
                .putInt(0).putLong(0).putLong(3).put(new byte[]{10, 11, 12})
                .putInt(1).putLong(0).putLong(2).put(new byte[]{20, 21}).array(), docs.get(2), "CHUNK");
        assertArrayEquals(doc(1 + 8 + 8).put((byte) 3).putLong(seq).putLong(5).array(), docs.get(3), "COMMIT");
        assertArrayEquals(doc(1 + 8).put((byte) 0).putLong(seq + 1).array(), docs.get(4), "the next OPEN");
    }

    private static ByteBuffer doc(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
