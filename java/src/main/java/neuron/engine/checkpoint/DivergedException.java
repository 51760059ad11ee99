package neuron.engine.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A loop stopped because its state diverged (a NaN or an infinity in its loss or its state): nothing of it was
 * checkpointed, and the message is the one line a user needs: where, what, which checkpoint is the last good one,
 * and what to change.
 */
public final class DivergedException extends IOException {
    /**
     * @param unit   "global_step" or "block"
     * @param at     where the loop stopped
     * @param what   what was not finite
     * @param good   the progress of the newest checkpoint on disk, -1 if none was written
     * @param file   the checkpoint file
     * @param remedy what to change before starting again
     */
    public DivergedException(String unit, long at, String what, long good, Path file, String remedy) {
        super("the run diverged at " + unit + " " + at + ": " + what + "; nothing of it was checkpointed; "
                + (good < 0 ? "no checkpoint was written" : "the last good checkpoint " + file + " (" + unit + " "
                + good + ") and its backups are kept") + "; " + remedy);
    }
}
