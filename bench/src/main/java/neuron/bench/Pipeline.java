package neuron.bench;

import neuron.engine.checkpoint.CheckpointConfig;
import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.checkpoint.CheckpointPolicy;
import neuron.engine.checkpoint.Checkpointer;
import neuron.engine.checkpoint.StateSource;
import neuron.engine.torch.TensorTreeSource;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * One {@link Checkpointer} writing to a scratch directory on the real disk, staging in its default place
 * ({@code /dev/shm}), with no backups. Each {@link #snapshot} takes the next step; the staging directory goes
 * when it is closed.
 */
final class Pipeline implements AutoCloseable {
    private static final Duration PERSIST_TIMEOUT = Duration.ofMinutes(5);

    private final CheckpointConfig config;
    private final long stateBytes;
    private final Checkpointer checkpointer;
    private long step;

    private Pipeline(CheckpointConfig config, long stateBytes, Checkpointer checkpointer) {
        this.config = config;
        this.stateBytes = stateBytes;
        this.checkpointer = checkpointer;
    }

    static Pipeline open(Path checkpoint, long stateBytes, boolean writeHints, CheckpointListener listener)
            throws IOException {
        CheckpointConfig config = new CheckpointConfig(checkpoint, 0, null);
        return new Pipeline(config, stateBytes,
                Checkpointer.open(config, new CheckpointPolicy(1), stateBytes, "global_step", listener, writeHints));
    }

    /** Snapshots {@code tree} as the next step and waits for its copy, as a loop that mutates at once would. */
    void snapshot(Map<String, Object> tree) {
        handOver(tree);
        awaitStaging();
    }

    /** Hands {@code tree} over as the next step's snapshot; a skipped snapshot would measure nothing, so it fails. */
    void handOver(Map<String, Object> tree) {
        if (!checkpointer.snapshot(++step, TensorTreeSource.of(() -> tree))) {
            throw new IllegalStateException("the checkpointer skipped the snapshot of step " + step);
        }
    }

    /** What a loop does right before its next update: waits for the copy if it is not done. */
    void awaitStaging() {
        checkpointer.awaitStaging();
    }

    /** The loop's hook after a step, as the miner calls it (the pipeline checkpoints every step). */
    boolean afterStep(long progress, StateSource source) {
        return checkpointer.afterStep(progress, source);
    }

    /** Waits until the last snapshot is on disk and staging is ready for the next. */
    void awaitIdle() throws IOException, InterruptedException {
        checkpointer.awaitIdle(PERSIST_TIMEOUT);
    }

    /** Waits until the last snapshot is on disk. */
    void awaitPersisted() throws IOException, InterruptedException {
        checkpointer.awaitPersisted(step, PERSIST_TIMEOUT);
    }

    @Override
    public void close() throws InterruptedException, IOException {
        checkpointer.close();
        Disk.deleteTree(config.resolvedStagingDir(stateBytes));
    }
}
