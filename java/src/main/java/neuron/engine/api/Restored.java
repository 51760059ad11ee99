package neuron.engine.api;

import java.nio.file.Path;

/**
 * What {@link NeuronCheckpoints#restore} loaded: the state the restorer built, the file it came from (the
 * checkpoint or one of its backups) and the file's progress value ({@code global_step} or {@code block}).
 *
 * @param <T> what the restorer builds, e.g. the application's trainer
 */
public record Restored<T>(T state, Path file, long progress) {
}
