package neuron.engine.nativeio;

import org.bytedeco.javacpp.BytePointer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeSmokeTest {

    @Test
    void abiVersionMatches() {
        assertEquals(NativeIO.EXPECTED_ABI, NativeLibrary.ensureLoaded());
    }

    @Test
    void copiesBytesBetweenNativeBuffers() {
        int n = 20 << 20;
        try (BytePointer src = new BytePointer(n); BytePointer dst = new BytePointer(n)) {
            for (int i = 0; i < n; i += 4096) {
                src.put(i, (byte) (i >>> 12));
            }
            src.put(n - 1, (byte) 42);
            NativeIO.nn_copy(dst.address(), src.address(), n, 2);
            byte[] a = new byte[n];
            byte[] b = new byte[n];
            src.get(a);
            dst.get(b);
            assertArrayEquals(a, b);
        }
    }

    @Test
    void reportsErrnoForAnUnwritablePath() {
        int fd = NativeIO.nn_open_for_write("/proc/neuron-cannot-write-here");
        assertTrue(fd < 0, "open must fail");
        assertTrue(NativeIO.nn_strerror(fd).length() > 0);
    }

    @Test
    void writesAFileThroughTheLinuxCalls(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path file = dir.resolve("x.bin");
        byte[] data = "neuron engine".getBytes();
        int fd = NativeIO.nn_open_for_write(file.toString());
        assertTrue(fd >= 0);
        try (BytePointer p = new BytePointer(data)) {
            assertEquals(0, NativeIO.nn_fallocate(fd, 0, data.length));
            assertEquals(data.length, NativeIO.nn_write_fully(fd, p.address(), data.length));
        }
        assertEquals(0, NativeIO.nn_flush_range(fd, 0, 0));
        assertEquals(0, NativeIO.nn_fsync(fd));
        assertEquals(0, NativeIO.nn_drop_range(fd, 0, 0));
        assertEquals(0, NativeIO.nn_close(fd));
        assertEquals(0, NativeIO.nn_fsync_dir(dir.toString()));
        assertArrayEquals(data, Files.readAllBytes(file));
    }
}
