package neuron.engine.pth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Engine writer to engine reader, and the zip layout rules of pth-format.md §4-5, without Python. */
class PthRoundTripTest {
    @TempDir
    Path dir;

    @Test
    void everyValueKindRoundTripsWithSharedStorages() throws IOException {
        PthSamples.Sample sample = PthSamples.everyKind(true);
        Path file = dir.resolve("every.kind.pth");
        PthWriter.write(file, sample.root(), sample.bytes()::get);
        try (PthReader reader = PthReader.open(file)) {
            reader.verify();
            assertEquals("every.kind", reader.archiveName());
            assertEquals(PthCanonical.of(sample.root(), sample.bytes()::get),
                    PthCanonical.of(reader.root(), s -> PthCanonical.whole(reader.data(s))));
            assertEquals(List.of("data.pkl", ".format_version", ".storage_alignment", "byteorder"),
                    reader.recordNames().subList(0, 4));
            assertEquals(List.of("version", ".data/serialization_id"),
                    reader.recordNames().subList(reader.recordNames().size() - 2, reader.recordNames().size()));
            Map<?, ?> views = (Map<?, ?>) ((Map<?, ?>) reader.root()).get("views");
            PthTensor whole = (PthTensor) views.get("whole");
            PthTensor transposed = (PthTensor) views.get("transposed");
            assertSame(whole.storage(), transposed.storage(), "views keep sharing one storage");
            assertArrayEquals(new long[] {1, 3}, transposed.stride());
            assertEquals(BigInteger.TWO.pow(100), ((Map<?, ?>) reader.root()).get("huge"));
        }
    }

    @Test
    void storagesStreamInManySmallChunksFromDirectBuffers() throws IOException {
        PthStorage storage = new PthStorage(DType.INT32, 10_000);
        Path file = dir.resolve("chunks.pth");
        try (FileChannelSink sink = FileChannelSink.create(file)) {
            PthWriter writer = new PthWriter(sink, "chunks", Map.of("x", PthTensor.contiguous(storage, 100, 100)));
            writer.beginStorage(storage);
            ByteBuffer chunk = ByteBuffer.allocateDirect(7 * 4).order(ByteOrder.LITTLE_ENDIAN);
            int next = 0;
            while (next < 10_000) {
                chunk.clear();
                for (int i = 0; i < 7 && next < 10_000; i++) {
                    chunk.putInt(next++);
                }
                chunk.flip();
                writer.writeStorageBytes(chunk);
            }
            writer.finish();
        }
        try (PthReader reader = PthReader.open(file)) {
            reader.verify();
            ByteBuffer data = reader.storages().get(0).slice(0, 40_000);
            for (int i = 0; i < 10_000; i++) {
                assertEquals(i, data.getInt(4 * i));
            }
        }
    }

    @Test
    void writerRefusesMisuse() throws IOException {
        PthStorage a = new PthStorage(DType.FLOAT32, 2);
        PthStorage b = new PthStorage(DType.FLOAT32, 3);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("a", PthTensor.contiguous(a, 2));
        root.put("b", PthTensor.contiguous(b, 3));
        try (FileChannelSink sink = FileChannelSink.create(dir.resolve("misuse.pth"))) {
            PthWriter writer = new PthWriter(sink, "misuse", root);
            assertEquals(List.of(a, b), writer.storages());
            assertThrows(IllegalStateException.class, () -> writer.beginStorage(b), "storages go in key order");
            writer.beginStorage(a);
            assertThrows(IllegalStateException.class, () -> writer.writeStorageBytes(ByteBuffer.allocate(9)));
            writer.writeStorageBytes(ByteBuffer.allocate(4));
            assertThrows(IllegalStateException.class, () -> writer.beginStorage(b), "a is 4 bytes short");
            assertThrows(IllegalStateException.class, writer::finish);
        }
        assertThrows(IllegalArgumentException.class, () -> PthTensor.contiguous(a, 3), "beyond the storage");
        assertThrows(IllegalArgumentException.class,
                () -> new PthWriter(src -> { }, "x", Map.of("set", java.util.Set.of(1))));
        List<Object> cycle = new ArrayList<>();
        cycle.add(cycle);
        assertThrows(IllegalArgumentException.class, () -> new PthWriter(src -> { }, "x", cycle));
    }

    @Test
    void archiveNameIsTheFileNameWithoutItsLastExtension() {
        assertEquals("ckpt", PthWriter.archiveName(Path.of("/x/ckpt.pt")));
        assertEquals("model.tar", PthWriter.archiveName(Path.of("model.tar.gz")));
        assertEquals("foo", PthWriter.archiveName(Path.of("foo")));
        assertEquals("archive", PthWriter.archiveName(Path.of("gewichte-\u00fc.pth")));
    }

    /** The worked example of pth-format.md §5: record sizes give exactly these header and data offsets. */
    @Test
    void layoutMatchesTheWorkedExample() throws IOException {
        String[] names = {"data.pkl", ".format_version", ".storage_alignment", "byteorder", "data/0", "data/1",
            "version", ".data/serialization_id"};
        int[] sizes = {227, 1, 2, 6, 24, 12, 2, 40};
        long[] headers = {0, 307, 401, 530, 662, 808, 924, 1042};
        long[] dataOffsets = {64, 384, 512, 640, 768, 896, 1024, 1152};
        Path file = dir.resolve("layout.zip");
        try (FileChannelSink sink = FileChannelSink.create(file)) {
            ZipStreamWriter zip = new ZipStreamWriter(sink, "archive");
            for (int i = 0; i < names.length; i++) {
                assertEquals(headers[i], zip.position(), names[i]);
                zip.writeRecord(names[i], ByteBuffer.allocate(sizes[i]));
            }
            assertEquals(1208, zip.position(), "the central directory follows the last descriptor");
            zip.finish();
        }
        try (MappedFile mapped = MappedFile.open(file)) {
            ZipDirectory directory = ZipDirectory.read(file, mapped);
            for (int i = 0; i < names.length; i++) {
                assertEquals(dataOffsets[i], directory.records().get(names[i]).dataOffset(), names[i]);
            }
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer header = ByteBuffer.allocate(30).order(ByteOrder.LITTLE_ENDIAN);
            channel.read(header, 0);
            assertEquals(0x0808, header.getShort(6), "UTF-8 + data descriptor flags");
            assertEquals(16, header.getShort(26), "archive/data.pkl");
            assertEquals(4 + 14, header.getShort(28), "the FB extra: id, length and 14 bytes of padding");
        }
    }
}
