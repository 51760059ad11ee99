package neuron.engine.pth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import neuron.engine.testing.Slow;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One archive past 4 GiB: a 4.1 GiB storage (zip64 size) followed by records whose headers sit beyond 4 GiB
 * (zip64 offsets). Its zeros stream from one reused 16 MiB direct buffer; the file is deleted afterwards.
 */
@Slow
class PthLargeArchiveTest {
    private static final long BIG = (1L << 32) + (100L << 20);
    private static final int CHUNK = 16 << 20;

    @TempDir
    Path dir;

    @Test
    void zip64SizesAndOffsetsReadBackInTheEngineAndInPythonsZipfile() throws IOException {
        Path file = roomyTmpfs().orElse(dir).resolve("large-" + ProcessHandle.current().pid() + ".pth");
        try {
            write(file);
            readInTheEngine(file);
            PthPython.assumeTorch();
            checkWithPythonZipfile(file);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** /dev/shm when it has room: memory instead of 4 GiB of disk writes, gone once the file is deleted. */
    private static Optional<Path> roomyTmpfs() throws IOException {
        Path shm = Path.of("/dev/shm");
        return Files.isDirectory(shm) && Files.isWritable(shm) && Files.getFileStore(shm).getUsableSpace() > 3 * BIG
                ? Optional.of(shm) : Optional.empty();
    }

    private static void write(Path file) throws IOException {
        PthStorage big = new PthStorage(DType.UINT8, BIG);
        PthStorage after = new PthStorage(DType.INT32, 4);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("big", PthTensor.contiguous(big, BIG));
        root.put("after", PthTensor.contiguous(after, 4));
        ByteBuffer zeros = ByteBuffer.allocateDirect(CHUNK);
        try (FileChannelSink sink = FileChannelSink.create(file)) {
            PthWriter writer = new PthWriter(sink, "large", root);
            writer.beginStorage(big);
            for (long left = BIG; left > 0; left -= CHUNK) {
                writer.writeStorageBytes(zeros.duplicate().limit((int) Math.min(CHUNK, left)));
            }
            writer.beginStorage(after);
            writer.writeStorageBytes(ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(1).putInt(2).putInt(3).putInt(4).flip());
            writer.finish();
            assertTrue(writer.bytesWritten() > BIG);
        }
    }

    private static void readInTheEngine(Path file) throws IOException {
        try (PthReader reader = PthReader.open(file)) {
            reader.verify();
            Map<?, ?> root = (Map<?, ?>) reader.root();
            StorageData big = reader.data(((PthTensor) root.get("big")).storage());
            assertEquals(BIG, big.byteSize());
            List<ByteBuffer> chunks = big.chunks();
            assertEquals((BIG + StorageData.MAX_VIEW_BYTES - 1) / StorageData.MAX_VIEW_BYTES, chunks.size());
            assertEquals(BIG, chunks.stream().mapToLong(ByteBuffer::remaining).sum());
            ByteBuffer across = ByteBuffer.allocate(64);
            big.copyTo(StorageData.MAX_VIEW_BYTES - 32, across);
            assertEquals(ByteBuffer.allocate(64), across.flip(), "zeros across a view boundary");
            ByteBuffer after = PthCanonical.whole(reader.data(((PthTensor) root.get("after")).storage()));
            assertEquals(List.of(1, 2, 3, 4), List.of(after.getInt(0), after.getInt(4), after.getInt(8), after.getInt(12)));
        }
    }

    /** Python's zipfile reads the zip64 central directory; descriptors after zip64 records are 24 bytes. */
    private static void checkWithPythonZipfile(Path file) {
        JsonNode info = PthCanonical.parse(PthPython.tool("records", file.toString()));
        JsonNode records = info.get("records");
        int dataZero = -1;
        for (int i = 0; i < records.size(); i++) {
            JsonNode record = records.get(i);
            assertEquals(0, record.get(2).asLong() % 64, record + " is aligned");
            if (record.get(0).asText().equals("large/data/0")) {
                dataZero = i;
            }
        }
        assertEquals(BIG, records.get(dataZero).get(3).asLong());
        for (int i = dataZero; i + 1 < records.size(); i++) {
            JsonNode record = records.get(i);
            assertTrue(records.get(i + 1).get(1).asLong() >= 1L << 32, records.get(i + 1) + " has a zip64 offset");
            assertEquals(record.get(2).asLong() + record.get(3).asLong() + 24, records.get(i + 1).get(1).asLong(),
                    record + " ends with a 24-byte zip64 data descriptor");
        }
        assertEquals("01000000020000000300000004000000", info.get("small").get("large/data/1").asText());
        if (!info.get("torch_has_mmap").asBoolean()) {
            System.out.println("PthLargeArchiveTest: torch.load(mmap=True) not checked: the installed torch has no "
                    + "mmap argument (it arrived in 2.1)");
        }
    }
}
