package neuron.engine.pth;

import neuron.engine.nativeio.NativeFile;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * A read-only file mapped in overlapping windows, so files and records beyond 2 GiB need no copy: window k maps
 * [k * STEP, k * STEP + 2 * STEP), hence any range of at most STEP bytes lies inside one window.
 * Windows are mapped on first use; the mappings live until garbage-collected (Java 17 cannot unmap).
 */
public final class MappedFile implements Closeable {
    public static final int STEP = 1 << 29;

    private final FileChannel channel;
    private final long size;
    private final MappedByteBuffer[] windows;

    private MappedFile(FileChannel channel, long size) {
        this.channel = channel;
        this.size = size;
        this.windows = new MappedByteBuffer[(int) (size / STEP) + 1];
    }

    public static MappedFile open(Path file) throws IOException {
        FileChannel channel = NativeFile.openChannel(file);
        try {
            return new MappedFile(channel, channel.size());
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    public long size() {
        return size;
    }

    /**
     * A little-endian read-only view of [offset, offset + length); the caller has checked the range against
     * {@link #size()} and {@code length <= STEP}.
     */
    public ByteBuffer slice(long offset, int length) throws IOException {
        if (offset < 0 || length < 0 || length > STEP || offset > size - length) {
            throw new IllegalArgumentException("range " + offset + "+" + length + " outside a file of " + size + " bytes");
        }
        if (length == 0) {
            return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
        }
        int k = (int) (offset / STEP);
        MappedByteBuffer window = windows[k];
        if (window == null) {
            long start = (long) k * STEP;
            window = channel.map(FileChannel.MapMode.READ_ONLY, start, Math.min(2L * STEP, size - start));
            windows[k] = window;
        }
        int from = (int) (offset - (long) k * STEP);
        return window.slice(from, length).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
