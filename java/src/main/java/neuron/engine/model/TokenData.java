package neuron.engine.model;

import neuron.engine.checkpoint.UsageException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * The training tokens: the built-in corpus, a text file (one token per byte), an llm.c / nanoGPT {@code .bin}
 * shard (256 int32 header: magic 20240520, version 1, token count; then uint16 tokens), or a directory of
 * shards. Files are memory-mapped and read-only.
 *
 * <p>A batch is a pure function of (seed, step, data): each row starts at a window drawn by hashing
 * (seed, step, row) over every position where a full window fits inside one file. Nothing is iterated, so a
 * resumed run needs no reader state.
 */
public final class TokenData {
    static final int SHARD_MAGIC = 20240520;
    static final int SHARD_VERSION = 1;
    static final int SHARD_HEADER_BYTES = 256 * 4;

    private final String source;
    private final List<Segment> segments;
    private final long tokenCount;
    private final int maxToken;

    /** One file's tokens: {@code count} tokens of {@code width} bytes each (little-endian), after {@code offset}. */
    private record Segment(ByteBuffer bytes, int offset, int width, long count) {
        int token(long i) {
            int at = Math.toIntExact(offset + i * width);
            return width == 1 ? bytes.get(at) & 0xFF : bytes.getShort(at) & 0xFFFF;
        }
    }

    private TokenData(String source, List<Segment> segments) {
        if (segments.isEmpty()) {
            throw new UsageException(source + ": no tokens");
        }
        this.source = source;
        this.segments = List.copyOf(segments);
        long total = 0;
        int max = 0;
        for (Segment s : segments) {
            total += s.count();
            for (long i = 0; i < s.count(); i++) {
                max = Math.max(max, s.token(i));
            }
        }
        this.tokenCount = total;
        this.maxToken = max;
    }

    public static TokenData builtin() {
        byte[] text = BuiltinCorpus.bytes();
        return new TokenData(BuiltinCorpus.SOURCE,
                List.of(new Segment(ByteBuffer.wrap(text), 0, 1, text.length)));
    }

    /** {@code source} as {@link #source()} reports it: the built-in corpus's name, or a path. */
    public static TokenData open(String source) {
        return BuiltinCorpus.SOURCE.equals(source) ? builtin() : open(Path.of(source));
    }

    /** A {@code .bin} shard, a directory of them (all {@code *.bin}, in name order), or any other file as text. */
    public static TokenData open(Path path) {
        Path absolute = path.toAbsolutePath().normalize();
        try {
            if (Files.isDirectory(absolute)) {
                List<Path> shards;
                try (Stream<Path> files = Files.list(absolute)) {
                    shards = files.filter(p -> p.getFileName().toString().endsWith(".bin")).sorted().toList();
                }
                if (shards.isEmpty()) {
                    throw new UsageException(absolute + ": directory holds no .bin token shards");
                }
                List<Segment> segments = new ArrayList<>();
                for (Path shard : shards) {
                    segments.add(shard(shard));
                }
                return new TokenData(absolute.toString(), segments);
            }
            if (!Files.isRegularFile(absolute)) {
                throw new UsageException(absolute + ": no such file or directory");
            }
            Segment segment = absolute.getFileName().toString().endsWith(".bin") ? shard(absolute) : text(absolute);
            return new TokenData(absolute.toString(), List.of(segment));
        } catch (IOException e) {
            throw new UncheckedIOException(absolute + ": " + e.getMessage(), e);
        }
    }

    public String source() {
        return source;
    }

    public long tokenCount() {
        return tokenCount;
    }

    /** The largest token id present: a model needs a vocabulary above it. */
    public int maxToken() {
        return maxToken;
    }

    /**
     * Identifies the content cheaply (token count plus a CRC of each file's first and last 64 Ki tokens), so a
     * resume can refuse data that changed under the same path.
     */
    public long fingerprint() {
        CRC32 crc = new CRC32();
        for (Segment s : segments) {
            long edge = Math.min(s.count(), 65536);
            for (long i = 0; i < edge; i++) {
                crc.update(s.token(i));
                crc.update(s.token(s.count() - 1 - i));
            }
        }
        return (tokenCount << 32) ^ crc.getValue();
    }

    /**
     * Fills {@code out} (rows × width, row-major) with windows of {@code width} consecutive tokens chosen by
     * hashing (seed, step, row).
     */
    public void fillBatch(long seed, long step, int rows, int width, long[] out) {
        fillBatch(seed, step, 0, rows, width, out);
    }

    /**
     * Fills {@code out} with rows {@code firstRow .. firstRow + rows} of the batch of (seed, step): a rank's slice
     * of a global batch is the same rows whatever the number of ranks.
     */
    public void fillBatch(long seed, long step, int firstRow, int rows, int width, long[] out) {
        long[] cumulativeStarts = new long[segments.size()];
        long starts = 0;
        for (int s = 0; s < segments.size(); s++) {
            starts += Math.max(0, segments.get(s).count() - width + 1);
            cumulativeStarts[s] = starts;
        }
        if (starts == 0) {
            throw new UsageException(source + ": no file holds " + width + " tokens (sequence length + 1)");
        }
        for (int row = 0; row < rows; row++) {
            long pick = Long.remainderUnsigned(SplitMix64.hash(seed, step, firstRow + row), starts);
            int s = Arrays.binarySearch(cumulativeStarts, pick + 1);
            s = s >= 0 ? s : -s - 1;
            Segment segment = segments.get(s);
            long start = pick - (s == 0 ? 0 : cumulativeStarts[s - 1]);
            for (int j = 0; j < width; j++) {
                out[row * width + j] = segment.token(start + j);
            }
        }
    }

    private static Segment text(Path file) throws IOException {
        ByteBuffer bytes = map(file);
        return new Segment(bytes, 0, 1, bytes.capacity());
    }

    private static Segment shard(Path file) throws IOException {
        ByteBuffer bytes = map(file);
        if (bytes.capacity() < SHARD_HEADER_BYTES) {
            throw new UsageException(file + ": " + bytes.capacity() + " bytes, shorter than the "
                    + SHARD_HEADER_BYTES + "-byte .bin shard header");
        }
        int magic = bytes.getInt(0);
        int version = bytes.getInt(4);
        long count = Integer.toUnsignedLong(bytes.getInt(8));
        if (magic != SHARD_MAGIC) {
            throw new UsageException(file + ": magic " + magic + ", not an llm.c token shard (magic "
                    + SHARD_MAGIC + ")");
        }
        if (version != SHARD_VERSION) {
            throw new UsageException(file + ": shard version " + version + "; only version "
                    + SHARD_VERSION + " (uint16 tokens) is supported");
        }
        long expected = SHARD_HEADER_BYTES + 2 * count;
        if (bytes.capacity() != expected) {
            throw new UsageException(file + ": header says " + count + " tokens (" + expected
                    + " bytes), file has " + bytes.capacity() + " bytes");
        }
        return new Segment(bytes, SHARD_HEADER_BYTES, 2, count);
    }

    private static ByteBuffer map(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            if (channel.size() > Integer.MAX_VALUE) {
                throw new UsageException(file + ": " + channel.size()
                        + " bytes; files over 2 GiB are not supported, split them into shards");
            }
            return channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size()).order(ByteOrder.LITTLE_ENDIAN);
        }
    }
}
