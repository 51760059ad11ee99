package neuron.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

import neuron.engine.nativeio.NativeMemory;

/**
 * The benchmarks' files: on the real disk ({@code -Dneuron.bench.dir}, default {@code /var/tmp/neuron-bench}),
 * never tmpfs, since persist throughput is about the disk.
 */
final class Disk {
    private static final Path ROOT = Path.of(System.getProperty("neuron.bench.dir", "/var/tmp/neuron-bench"));
    private static final int WRITE_CHUNK = 64 << 20;

    private Disk() {
    }

    static Path newScratchDir(String prefix) throws IOException {
        Files.createDirectories(ROOT);
        return Files.createTempDirectory(ROOT, prefix);
    }

    static void deleteTree(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }

    /** Flushes a written file's data and metadata to the disk (fsync), as a durable save must. */
    static void fsync(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }

    /** The raw sequential write: {@code length} bytes at {@code address} into {@code file}, then fsync. */
    static void writeDurably(Path file, long address, long length) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (long offset = 0; offset < length; offset += WRITE_CHUNK) {
                ByteBuffer chunk = NativeMemory.view(address + offset, (int) Math.min(WRITE_CHUNK, length - offset));
                while (chunk.hasRemaining()) {
                    channel.write(chunk);
                }
            }
            channel.force(true);
        }
    }
}
