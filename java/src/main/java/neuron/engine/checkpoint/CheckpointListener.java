package neuron.engine.checkpoint;

import java.nio.file.Path;

/**
 * What the checkpoint pipeline reports, for the status line and the metrics endpoint. {@link #snapshotTaken} and
 * {@link #snapshotSkipped} run on the loop's thread, the others on the agents' threads; implementations must be
 * quick and thread-safe.
 */
public interface CheckpointListener {
    CheckpointListener NONE = new CheckpointListener() {
    };

    /** Tells both, in order. */
    static CheckpointListener both(CheckpointListener first, CheckpointListener second) {
        return new CheckpointListener() {
            @Override
            public void snapshotTaken(long step, long bytes, long pauseNanos) {
                first.snapshotTaken(step, bytes, pauseNanos);
                second.snapshotTaken(step, bytes, pauseNanos);
            }

            @Override
            public void snapshotSkipped(long step, String reason) {
                first.snapshotSkipped(step, reason);
                second.snapshotSkipped(step, reason);
            }

            @Override
            public void persisted(long step, Path path, long bytes, long persistNanos) {
                first.persisted(step, path, bytes, persistNanos);
                second.persisted(step, path, bytes, persistNanos);
            }

            @Override
            public void persistFailed(long step, Throwable cause) {
                first.persistFailed(step, cause);
                second.persistFailed(step, cause);
            }

            @Override
            public void checkpointError(Throwable cause) {
                first.checkpointError(cause);
                second.checkpointError(cause);
            }
        };
    }

    /** The loop paused {@code pauseNanos} to copy {@code bytes} of state for {@code step} into staging. */
    default void snapshotTaken(long step, long bytes, long pauseNanos) {
    }

    /** A trigger at {@code step} took no snapshot, e.g. staging had no room. */
    default void snapshotSkipped(long step, String reason) {
    }

    /** The snapshot of {@code step} is on disk at {@code path}. */
    default void persisted(long step, Path path, long bytes, long persistNanos) {
    }

    /** Persisting the snapshot of {@code step} failed; the previous checkpoint is intact. */
    default void persistFailed(long step, Throwable cause) {
    }

    /** The copier or the writer failed outside a persist (already logged); an Error stops the pipeline. */
    default void checkpointError(Throwable cause) {
    }
}
