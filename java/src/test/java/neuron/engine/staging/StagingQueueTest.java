package neuron.engine.staging;

import neuron.engine.nativeio.NativeMemory;
import org.bytedeco.javacpp.BytePointer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StagingQueueTest {
    private final List<BytePointer> buffers = new ArrayList<>();

    @TempDir
    Path dir;

    @AfterEach
    void free() {
        buffers.forEach(BytePointer::close);
    }

    private BytePointer pattern(int n, int seed) {
        BytePointer p = new BytePointer(n);
        for (int i = 0; i < n; i++) {
            p.put(i, (byte) (i * 31 + seed));
        }
        buffers.add(p);
        return p;
    }

    private static StagingQueue.StorageFiller from(BytePointer... storages) {
        return storage -> (dst, off, len) -> NativeMemory.copy(dst, storages[storage].address() + off, len, 1);
    }

    private static byte[][] read(StagingQueue q, StagingQueue.Committed c) throws Exception {
        ByteArrayOutputStream[] out = new ByteArrayOutputStream[c.storageBytes().length];
        for (int i = 0; i < out.length; i++) {
            out[i] = new ByteArrayOutputStream();
        }
        long[] next = new long[out.length];
        q.stream(c, (storage, offset, bytes) -> {
            assertEquals(next[storage], offset, "chunks arrive in order");
            byte[] b = new byte[bytes.remaining()];
            bytes.get(b);
            out[storage].write(b);
            next[storage] += b.length;
        });
        byte[][] result = new byte[out.length][];
        for (int i = 0; i < out.length; i++) {
            result[i] = out[i].toByteArray();
        }
        return result;
    }

    private static byte[] bytes(BytePointer p) {
        byte[] b = new byte[(int) p.capacity()];
        p.get(b);
        return b;
    }

    @Test
    void stagesAndStreamsCommittedSnapshotsNewestFirst() throws Exception {
        BytePointer a = pattern(100_000_000, 1);   // spans several chunks
        BytePointer b = pattern(12_345, 2);
        BytePointer empty = pattern(0, 0);
        try (StagingQueue q = StagingQueue.open(dir, 100_012_345)) {
            q.prepare();
            long s1 = q.stage(500, new byte[]{1}, new long[]{100_000_000, 12_345, 0}, from(a, b, empty));
            long s2 = q.stage(1000, new byte[]{2, 2}, new long[]{100_000_000, 12_345, 0}, from(a, b, empty));
            assertTrue(s2 > s1);
            Optional<StagingQueue.Committed> newest = q.newestCommitted();
            assertTrue(newest.isPresent());
            assertEquals(1000, newest.get().step(), "the newest committed snapshot wins");
            assertArrayEquals(new byte[]{2, 2}, newest.get().metadata());
            byte[][] got = read(q, newest.get());
            assertArrayEquals(bytes(a), got[0]);
            assertArrayEquals(bytes(b), got[1]);
            assertEquals(0, got[2].length);
            assertFalse(q.newestCommitted().isPresent(), "nothing newer");

            q.release(newest.get().seq());
            assertTrue(StagingQueue.cycleFiles(dir).stream().allMatch(f -> f.cycle() > s2),
                    "the cycle files of persisted snapshots are deleted");
        }
    }

    @Test
    void aSnapshotThatFailsPartWayIsNeverCommitted() throws Exception {
        BytePointer a = pattern(4096, 3);
        try (StagingQueue q = StagingQueue.open(dir, 4096)) {
            q.stage(1, new byte[0], new long[]{4096}, from(a));
            assertEquals(1, q.newestCommitted().orElseThrow().step());
            assertThrows(IllegalStateException.class, () -> q.stage(2, new byte[0], new long[]{4096},
                    storage -> (dst, off, len) -> {
                        throw new IllegalStateException("device copy failed");
                    }));
            assertFalse(q.newestCommitted().isPresent(), "a torn snapshot is not offered");
            q.stage(3, new byte[0], new long[]{4096}, from(a));
            assertEquals(3, q.newestCommitted().orElseThrow().step());
        }
    }

    @Test
    void aCommittedSnapshotSurvivesTheProcessThatStagedIt() throws Exception {
        BytePointer a = pattern(1 << 20, 4);
        try (StagingQueue q = StagingQueue.open(dir, 1 << 20)) {
            q.stage(42, new byte[]{7}, new long[]{1 << 20}, from(a));
        }
        try (StagingQueue q = StagingQueue.open(dir, 1 << 20)) {
            StagingQueue.Committed c = q.newestCommitted().orElseThrow();
            assertEquals(42, c.step());
            assertArrayEquals(bytes(a), read(q, c)[0]);
            q.prepare();
            long next = q.stage(43, new byte[0], new long[]{1 << 20}, from(a));
            assertTrue(next > c.seq(), "a new process stages after what it found");
        }
    }

    @Test
    void aCycleFileLeftWithoutAHeaderByAKillIsDeletedOnOpen() throws Exception {
        BytePointer a = pattern(4096, 5);
        try (StagingQueue q = StagingQueue.open(dir, 4096)) {
            q.stage(1, new byte[0], new long[]{4096}, from(a));
        }
        int next = StagingQueue.cycleFiles(dir).stream().mapToInt(StagingQueue.CycleFile::cycle).max().orElseThrow() + 1;
        java.nio.file.Path empty = dir.resolve(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmm'V.cq4'")
                .withZone(java.time.ZoneOffset.UTC).format(java.time.Instant.ofEpochMilli(next * 300_000L)));
        java.nio.file.Files.write(empty, new byte[0]);
        try (StagingQueue q = StagingQueue.open(dir, 4096)) {
            assertFalse(java.nio.file.Files.exists(empty), "the headerless file is gone");
            assertEquals(1, q.newestCommitted().orElseThrow().step(), "the committed snapshot is still there");
            q.prepare();
            q.stage(2, new byte[0], new long[]{4096}, from(a));
            assertEquals(2, q.newestCommitted().orElseThrow().step());
        }
    }

    @Test
    void viewsAreLittleEndianAndZeroCopy() {
        BytePointer p = pattern(16, 0);
        p.putLong(0, 0x0102030405060708L);
        ByteBuffer v = NativeMemory.view(p.address(), 16);
        assertEquals(0x0102030405060708L, v.getLong(0));
        assertEquals(p.address(), NativeMemory.address(v));
        v.position(3);
        assertEquals(p.address() + 3, NativeMemory.address(v));
    }
}
