package neuron.engine.backup;

/** What backups report, for the metrics endpoint; called on the uploader's thread. */
public interface BackupListener {
    /** Version {@code progress} is complete in the store: {@code bytes} were sent for it. */
    default void uploaded(long progress, long bytes, long nanos) {
    }

    /** An attempt to upload version {@code progress} failed; it is tried again. */
    default void uploadFailed(long progress, Throwable cause) {
    }
}
