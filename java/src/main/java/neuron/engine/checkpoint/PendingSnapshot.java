package neuron.engine.checkpoint;

import neuron.engine.nativeio.NativeIO;
import neuron.engine.pth.DType;
import neuron.engine.pth.Pickled;
import neuron.engine.pth.PthStorage;
import neuron.engine.pth.PthTensor;
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
            List<PthStorage> storages = pickled.storages();
            seq = staging.stage(step, pickled.bytes(), sizes, i -> (dst, offset, length) -> {
                source.copy(sourceIndex[i], dst, offset, length);
                requireFinite(storages.get(i), i, storages.size(), dst, length);
            });
            return true;
        } catch (Throwable t) {   // an Error too: the loop must hear of it, not wait forever
            failure = t;
            return false;
        } finally {
            copyNanos = System.nanoTime() - started;
            source.release();
        }
    }

    /**
     * A diverged run must not overwrite its last good checkpoint: float32 values just copied (parameters, AdamW's
     * moments; nearly all of a state) are counted for NaN and infinities in staging, where the copy left them
     * in cache, before the snapshot can commit. Staging holds host memory whatever device the state lives on.
     */
    private void requireFinite(PthStorage storage, int index, int count, long dst, long length) {
        if (storage.dtype() != DType.FLOAT32) {
            return;
        }
        if (NativeIO.nn_count_nonfinite_f32(dst, length / Float.BYTES) > 0) {
            String name = keyOf(tree, storage);
            throw new NonFiniteStateException(step, (name != null ? name : "float32 storage " + (index + 1) + " of "
                    + count) + " holds NaN or an infinity");
        }
    }

    /** The key path of the tensor over {@code storage} in {@code node}, as "a.b.c", or null if none is found. */
    private static String keyOf(Object node, PthStorage storage) {
        if (node instanceof PthTensor t) {
            return t.storage() == storage ? "" : null;
        }
        if (node instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String below = keyOf(e.getValue(), storage);
                if (below != null) {
                    return below.isEmpty() ? String.valueOf(e.getKey()) : e.getKey() + "." + below;
                }
            }
        }
        if (node instanceof Iterable<?> items) {
            for (Object item : items) {
                String below = keyOf(item, storage);
                if (below != null) {
                    return below;
                }
            }
        }
        return null;
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
