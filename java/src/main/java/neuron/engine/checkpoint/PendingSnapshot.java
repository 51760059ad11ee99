package neuron.engine.checkpoint;

import neuron.engine.pth.Pickled;
import neuron.engine.pth.PthStorage;
import neuron.engine.staging.StagingQueue;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * One snapshot between its trigger and the end of its copy: the value tree captured on the loop's thread, and
 * the source whose storages the copier reads. Its outcome (a staging sequence number, or why it failed) is
 * published by {@link #finish()} and read by the loop after {@link #await()}.
 */
final class PendingSnapshot {
    final long step;
    final long bytes;
    /** Loop thread only: the time the trigger took on the loop's thread. */
    long loopNanos;
    private final Object tree;
    private final StateSource source;
    private final CountDownLatch copied = new CountDownLatch(1);
    private long seq = -1;
    private long copyNanos;
    private Throwable failure;

    PendingSnapshot(long step, Object tree, StateSource source, long bytes) {
        this.step = step;
        this.tree = tree;
        this.source = source;
        this.bytes = bytes;
    }

    /**
     * Copier thread: pickles the tree and stages BEGIN, every storage, COMMIT; then releases the source. Returns
     * whether the snapshot is committed. Whatever fails, the source is released and nothing half-copied counts.
     */
    boolean copyInto(StagingQueue staging) {
        long started = System.nanoTime();
        try {
            Pickled pickled = Pickled.of(tree);
            int[] sourceIndex = sourceIndices(pickled.storages(), source.storages());
            long[] sizes = pickled.storages().stream().mapToLong(PthStorage::nbytes).toArray();
            seq = staging.stage(step, pickled.bytes(), sizes,
                    i -> (dst, offset, length) -> source.copy(sourceIndex[i], dst, offset, length));
            return true;
        } catch (Throwable t) {   // an Error too: the loop must hear of it, not wait forever
            failure = t;
            return false;
        } finally {
            copyNanos = System.nanoTime() - started;
            source.release();
        }
    }

    /** Publishes the outcome to the loop. */
    void finish() {
        copied.countDown();
    }

    /** Loop thread: waits until the copy is done. */
    void await() {
        boolean interrupted = false;
        while (true) {
            try {
                copied.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;   // the copy reads live memory: it must end before the loop goes on
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    long seq() {
        return seq;
    }

    long copyNanos() {
        return copyNanos;
    }

    /** Why the copy failed, or null. */
    Throwable failure() {
        return failure;
    }

    /** For each storage of the pickled tree, its index among the source's storages (matched by identity). */
    private static int[] sourceIndices(List<PthStorage> pickled, List<PthStorage> declared) {
        Map<PthStorage, Integer> index = new IdentityHashMap<>();
        for (int i = 0; i < declared.size(); i++) {
            index.put(declared.get(i), i);
        }
        int[] out = new int[pickled.size()];
        for (int i = 0; i < out.length; i++) {
            Integer at = index.get(pickled.get(i));
            if (at == null) {
                throw new IllegalArgumentException("the state tree refers to a storage its source does not list: "
                        + pickled.get(i));
            }
            out[i] = at;
        }
        return out;
    }
}
