package neuron.engine.pth;

import neuron.engine.nativeio.NativeFile;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An {@link ArchiveSink} over a {@link FileChannel} that it opens and closes: a new file, which replaces a regular
 * file left at the path; a link there is removed, never written through.
 */
public final class FileChannelSink implements ArchiveSink, Closeable {
    private final FileChannel channel;

    private FileChannelSink(FileChannel channel) {
        this.channel = channel;
    }

    public static FileChannelSink create(Path file) throws IOException {
        NativeFile.removeStale(file);
        return new FileChannelSink(FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS));
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
