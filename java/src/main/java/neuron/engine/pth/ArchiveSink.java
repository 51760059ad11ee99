package neuron.engine.pth;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where {@link PthWriter} sends the archive, strictly in order. The buffers may be heap, direct, or views over
 * mapped or native memory; the sink must not keep them after {@code write} returns.
 */
@FunctionalInterface
public interface ArchiveSink {
    /** Writes all of {@code src}'s remaining bytes and advances its position to its limit. */
    void write(ByteBuffer src) throws IOException;
}
