package neuron.engine.checkpoint;

import neuron.engine.staging.StagingQueue;
import org.agrona.concurrent.Agent;

import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The copier agent: copies the storages of the snapshot the loop handed over into staging while the loop runs
 * its next forward and backward, then releases the state source. One snapshot at a time: the loop waits for the
 * copy ({@link Checkpointer#awaitStaging()}) before it mutates its state or hands over the next one.
 */
final class SnapshotCopier implements Agent {
    private final StagingQueue staging;
    private final Consumer<PendingSnapshot> committed;
    private final AtomicReference<PendingSnapshot> handOff = new AtomicReference<>();

    /** @param committed told of each snapshot once its COMMIT is in staging, on the copier's thread */
    SnapshotCopier(StagingQueue staging, Consumer<PendingSnapshot> committed) {
        this.staging = staging;
        this.committed = committed;
    }

    @Override
    public String roleName() {
        return "checkpoint-copier";
    }

    /** The queue's appender belongs to the thread that stages: this one. */
    @Override
    public void onStart() {
        staging.prepare();
    }

    /** Hands a snapshot over; the caller then wakes this agent's thread. */
    void submit(PendingSnapshot snapshot) {
        if (!handOff.compareAndSet(null, snapshot)) {
            throw new IllegalStateException("a snapshot was handed over while another waits to be copied");
        }
    }

    @Override
    public int doWork() {
        PendingSnapshot snapshot = handOff.getAndSet(null);
        if (snapshot == null) {
            return 0;
        }
        if (snapshot.copyInto(staging)) {
            committed.accept(snapshot);
        }
        snapshot.finish();
        return 1;
    }
}
