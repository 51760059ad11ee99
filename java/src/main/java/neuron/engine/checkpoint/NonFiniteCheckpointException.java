package neuron.engine.checkpoint;

import neuron.engine.pth.PthFormatException;

import java.nio.file.Path;

/**
 * A checkpoint file that reads well but holds a NaN or an infinity in its state: written by a run that diverged
 * (this engine never saves one) or damaged. Start-up passes over it to an older finite file, and when only such
 * files are left it refuses to start fresh unless told to.
 */
public final class NonFiniteCheckpointException extends PthFormatException {
    public NonFiniteCheckpointException(Path file, String tensor, String what) {
        super(file, tensor + " holds " + what + ", which no saved state has: the run that wrote it diverged, or the "
                + "file is damaged");
    }
}
