package neuron.engine.hf;

import neuron.engine.pth.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The safetensors layout written and read back, and every header a reader must refuse. */
class SafetensorsTest {
    @TempDir
    Path dir;

    @Test
    void writtenTensorsReadBackWithTheirBytesAfterAnAlignedHeader() throws IOException {
        byte[] a = new byte[24];
        byte[] b = new byte[6];
        for (int i = 0; i < a.length; i++) {
            a[i] = (byte) i;
        }
        b[5] = 9;
        Path file = dir.resolve("model.safetensors");
        long size = Safetensors.write(file, Map.of("format", "pt"), List.of(
                new Safetensors.Tensor("w", DType.FLOAT32, new long[]{2, 3}, List.of(ByteBuffer.wrap(a, 0, 12),
                        ByteBuffer.wrap(a, 12, 12))),
                new Safetensors.Tensor("b", DType.BFLOAT16, new long[]{3}, List.of(ByteBuffer.wrap(b)))));
        assertEquals(Files.size(file), size);
        assertFalse(Files.exists(dir.resolve("model.safetensors.tmp")));
        ByteBuffer raw = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = raw.getLong(0);
        assertEquals(0, (8 + headerLength) % 8, "tensor data starts 8-byte aligned");
        String header = new String(Files.readAllBytes(file), 8, (int) headerLength, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],"
                + "\"data_offsets\":[0,24]},\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[24,30]}}"), header);

        try (SafetensorsFile read = SafetensorsFile.open(file)) {
            assertEquals(Map.of("format", "pt"), read.metadata());
            assertEquals(List.of("w", "b"), read.entries().stream().map(SafetensorsFile.Entry::name).toList());
            SafetensorsFile.Entry w = read.entries().get(0);
            assertEquals(DType.FLOAT32, w.dtype());
            assertArrayEquals(new long[]{2, 3}, w.shape());
            assertArrayEquals(a, bytes(read.chunks(w)));
            assertArrayEquals(b, bytes(read.chunks(read.entries().get(1))));
        }
    }

    @Test
    void headersThatDoNotDescribeTheDataAreRefused() throws IOException {
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16, "tensor b starts at 12, not at 8");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "tensor b starts at 4, not at 8");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "spans bytes 0..8, not 12");
        refused("{\"a\":{\"dtype\":\"X9\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "needs a known dtype");
        refused("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 20, "cover 8 bytes of a data section of 20");
        refused("{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,8],\"data_offsets\":[0,8]}}", 8, "shape too large");
        refused("[1,2]", 0, "header is not a JSON object");
        refused("{\"a\":", 0, "header is not JSON");
        Path lying = dir.resolve("lying.safetensors");
        Files.write(lying, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        IOException e = assertThrows(IOException.class, () -> SafetensorsFile.open(lying).close());
        assertTrue(e.getMessage().contains("header length 1099511627776 does not fit a file of 16 bytes"), e.getMessage());
    }

    private void refused(String header, int dataBytes, String reason) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer file = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(json.length).put(json);
        Path path = dir.resolve("bad.safetensors");
        Files.write(path, file.array());
        IOException e = assertThrows(IOException.class, () -> SafetensorsFile.open(path).close(), header);
        assertTrue(e.getMessage().startsWith(path + ": ") && e.getMessage().contains(reason), e.getMessage());
    }

    private static byte[] bytes(List<ByteBuffer> chunks) {
        int n = chunks.stream().mapToInt(ByteBuffer::remaining).sum();
        ByteBuffer all = ByteBuffer.allocate(n);
        chunks.forEach(c -> all.put(c.duplicate()));
        return all.array();
    }
}
