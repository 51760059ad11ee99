package neuron.engine.testing;

import neuron.engine.checkpoint.StateSource;
import neuron.engine.pth.PthStorage;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A state source whose copy starts only once the loop has reached its next update ({@link #proceed()}, called
 * from the loop's barrier): the loop has run its next forward and backward before a single byte is copied, so a
 * snapshot that is not exactly the state at its trigger shows, whatever the machine's load.
 */
public final class GatedSource implements StateSource {
    private final StateSource source;
    private volatile CountDownLatch gate = new CountDownLatch(0);
    private volatile boolean waited = true;

    public GatedSource(StateSource source) {
        this.source = source;
    }

    /** Whether a snapshot was handed over and its copy is not done. */
    public boolean copying() {
        return gate.getCount() > 0 || !waited;
    }

    /** Lets the copy of the snapshot handed over start. */
    public void proceed() {
        gate.countDown();
    }

    @Override
    public Object tree() {
        Object tree = source.tree();
        waited = false;
        gate = new CountDownLatch(1);
        return tree;
    }

    @Override
    public List<PthStorage> storages() {
        return source.storages();
    }

    @Override
    public void copy(int storage, long dstAddress, long offset, long length) {
        if (!waited) {
            try {
                if (!gate.await(2, TimeUnit.MINUTES)) {
                    throw new IllegalStateException("the loop never reached its next update");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            waited = true;
        }
        source.copy(storage, dstAddress, offset, length);
    }

    @Override
    public void release() {
        source.release();
        waited = true;
    }
}
