package neuron.engine.checkpoint;

import neuron.engine.nativeio.NativeFile;
import neuron.engine.pth.ArchiveSink;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The persist's output: a native file that starts writeback of every {@link #WINDOW} as soon as it is written
 * and drops the window before it from the page cache once it is on disk. A multi-GB checkpoint then streams to
 * the disk at its speed, leaves the page cache as it found it, and the final fsync has little left to do.
 */
final class HintedFileSink implements ArchiveSink {
    static final long WINDOW = 64L << 20;

    private final NativeFile file;
    private final boolean hints;
    private long flushedUpTo;
    private long droppedUpTo;

    HintedFileSink(NativeFile file, boolean hints) {
        this.file = file;
        this.hints = hints;
    }

    @Override
    public void write(ByteBuffer src) throws IOException {
        file.write(src);
        if (!hints) {
            return;
        }
        long written = file.position();
        while (written - flushedUpTo >= WINDOW) {
            file.startWriteback(flushedUpTo, WINDOW);
            flushedUpTo += WINDOW;
            // Keep one window in flight; the one before it has had time to reach the disk.
            if (flushedUpTo - droppedUpTo > WINDOW) {
                file.dropFromCache(droppedUpTo, WINDOW);
                droppedUpTo += WINDOW;
            }
        }
    }

    /** Drops whatever is still cached once the file is fsynced. */
    void dropRest() throws IOException {
        if (hints && file.position() > droppedUpTo) {
            file.dropFromCache(droppedUpTo, file.position() - droppedUpTo);
            droppedUpTo = file.position();
        }
    }
}
