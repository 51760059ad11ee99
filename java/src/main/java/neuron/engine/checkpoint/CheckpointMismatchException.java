package neuron.engine.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A readable checkpoint that does not fit the role or the flags: refused with exit status 2 and one line saying
 * why and what to do. Unlike a damaged file it is never moved aside as {@code .corrupt} nor overwritten.
 */
public final class CheckpointMismatchException extends IOException {
    public CheckpointMismatchException(Path file, String why) {
        super(file + ": " + why + "; the file is left as it is");
    }
}
