package neuron.engine.checkpoint;

import neuron.engine.pth.PthStorage;

import java.util.List;

/**
 * What a loop hands the checkpointer at a trigger: its state as a {@code torch.save} value tree and a way to copy
 * each storage's bytes. The checkpointer pickles {@link #tree()} on the loop's thread, then a copier thread calls
 * {@link #copy} for every storage while the loop goes on; the loop must not change a storage's bytes until
 * {@link #release()} (it waits in {@link Checkpointer#awaitStaging()} right before its next mutation).
 *
 * <p>Implementations: {@code neuron.engine.torch.TensorTreeSource} (a tree of LibTorch tensors and Python-like
 * values), and anything an embedding application writes over its own memory.
 */
public interface StateSource {
    /**
     * The value tree (Map, PyOrderedDict, List, PyTuple, Long, Double, String, Boolean, null) whose tensor leaves
     * are {@link neuron.engine.pth.PthTensor}s over {@link #storages()}. Called once per snapshot, on the loop's
     * thread; scalars in it are captured then.
     */
    Object tree();

    /** The storages the tree refers to, in the order the tree first refers to them. */
    List<PthStorage> storages();

    /**
     * Copies {@code length} bytes from {@code offset} of storage {@code storage} to host memory at
     * {@code dstAddress}. Called on the copier thread, between the trigger and {@link #release()}.
     */
    void copy(int storage, long dstAddress, long offset, long length);

    /**
     * The copy is complete or abandoned: the loop may mutate the state again. Called exactly once per snapshot
     * handed over (also when the snapshot was refused), on the copier's or the loop's thread.
     */
    void release();
}
