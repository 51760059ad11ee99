package neuron.engine.chain;

import java.time.Duration;
import neuron.engine.network.ChainUnavailableException;

/**
 * The blocks of a chain, one after the other, for one consumer thread (the validator or miner loop).
 *
 * <p>Blocks come in number order: a block the consumer did not see announced (a missed notification, a dropped
 * connection, a slow consumer) is fetched by number and delivered in its place, never skipped. A block whose parent
 * is not the previously delivered block comes with {@link BlockEvent#reorg()} set, after a loud log line; its number
 * may then be at or below the last one delivered: the blocks delivered from that number on were replaced, and the
 * consumer rolls back to the block before it.
 */
public interface BlockFeed extends AutoCloseable {

    /** The next block, waiting at most {@code timeout}; null when none came in time. */
    BlockEvent next(Duration timeout) throws InterruptedException;

    /** The last block delivered, or the block the feed resumed after; null before the first. */
    Block lastDelivered();

    /** The storage value under {@code key} (SCALE) after block {@code at}; null when there is none. */
    byte[] storage(byte[] key, Block at, Duration timeout) throws ChainUnavailableException, InterruptedException;

    /** The chain's time at block {@code at} ({@code Timestamp.Now}, milliseconds since the Unix epoch). */
    long timestamp(Block at, Duration timeout) throws ChainUnavailableException, InterruptedException;

    @Override
    void close();
}
