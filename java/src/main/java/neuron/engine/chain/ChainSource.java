package neuron.engine.chain;

import java.time.Duration;
import neuron.engine.network.ChainUnavailableException;

/** Where a {@link ChainFollower} gets blocks: a chain that knows its head and can look a block up by number. */
public interface ChainSource extends AutoCloseable {

    /** The number of the newest block announced, or -1 while none is known yet (e.g. not connected yet). */
    long head();

    /** Waits until {@link #head()} is at least {@code number} or the timeout passes; true if it got there. */
    boolean awaitHead(long number, Duration timeout) throws InterruptedException;

    /** The canonical block with this number (at most {@link #head()}). */
    Block blockAt(long number, Duration timeout) throws ChainUnavailableException, InterruptedException;

    /** The storage value under {@code key} (SCALE) after block {@code at}, or null when there is none. */
    byte[] storage(byte[] key, Block at, Duration timeout) throws ChainUnavailableException, InterruptedException;

    @Override
    void close();
}
