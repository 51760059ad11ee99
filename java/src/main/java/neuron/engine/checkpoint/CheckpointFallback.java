package neuron.engine.checkpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where start-up looks when no local checkpoint loads, e.g. a remote backup. Each candidate is fetched into the
 * checkpoint's own path and then loaded and verified exactly like a local file: one that fails is moved aside as
 * {@code .corrupt} and the next is fetched.
 */
public interface CheckpointFallback {
    CheckpointFallback NONE = target -> Optional.empty();

    /**
     * Puts the next candidate, newest first, at {@code target}; returns where it came from, or empty when none is
     * left. Throws when the source cannot be asked (it is then unknown whether it holds a checkpoint).
     */
    Optional<String> fetchNext(Path target) throws IOException;

    /** The candidate fetched last has loaded: what belongs with it may be put in place. */
    default void accepted() throws IOException {
    }
}
