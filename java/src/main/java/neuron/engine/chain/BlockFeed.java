package neuron.engine.chain;

import java.time.Duration;

/**
 * The blocks of a chain, one after the other, for one consumer thread (the validator or miner loop).
 *
 * <p>Blocks come in number order: a block the consumer did not see announced (a missed notification, a dropped
 * connection, a slow consumer) is fetched by number and delivered in its place, never skipped. A block whose parent
 * is not the previously delivered block comes with {@link BlockEvent#reorg()} set, after a loud log line.
 */
public interface BlockFeed extends AutoCloseable {

    /** The next block, waiting at most {@code timeout}; null when none came in time. */
    BlockEvent next(Duration timeout) throws InterruptedException;

    /** The last block delivered, or the block the feed resumed after; null before the first. */
    Block lastDelivered();

    @Override
    void close();
}
