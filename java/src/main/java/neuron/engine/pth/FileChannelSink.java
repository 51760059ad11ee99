package neuron.engine.pth;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** An {@link ArchiveSink} over a {@link FileChannel} that it opens (create or truncate) and closes. */
public final class FileChannelSink implements ArchiveSink, Closeable {
    private final FileChannel channel;

    private FileChannelSink(FileChannel channel) {
        this.channel = channel;
    }

    public static FileChannelSink create(Path file) throws IOException {
        return new FileChannelSink(FileChannel.open(file, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE));
    }

    @Override
    public void write(ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            channel.write(src);
        }
    }

    /** Flushes file data and metadata to the device. */
    public void force() throws IOException {
        channel.force(true);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
