package neuron.engine.chain;

import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link BlockFeed} over any {@link ChainSource}: it asks the source for block {@code last + 1} by number, so
 * whatever the source missed or the consumer was too slow for is caught up in order, and it checks every block's
 * parent against the block delivered before it to flag reorganisations.
 */
public final class ChainFollower implements BlockFeed {
    private static final Logger log = LoggerFactory.getLogger(ChainFollower.class);
    /** How long to wait before asking again when the source could not answer (reconnecting, server restarting). */
    private static final Duration RETRY_PAUSE = Duration.ofMillis(50);

    private final ChainSource source;
    /** The first block to deliver when there is no block to resume after; -1 for the chain's head. */
    private final long firstNumber;
    private Block last;
    private long catchingUpTo = -1;

    /**
     * @param resumeAfter the last block the consumer already has (e.g. the journal's last block), so that the feed
     *     continues with the next number and checks its parent; null to start at the chain's head
     */
    public ChainFollower(ChainSource source, Block resumeAfter) {
        this(source, resumeAfter, -1);
    }

    /** A feed that starts at block {@code firstNumber} (e.g. 0: the whole history, fetched by number). */
    public ChainFollower(ChainSource source, long firstNumber) {
        this(source, null, firstNumber);
    }

    private ChainFollower(ChainSource source, Block resumeAfter, long firstNumber) {
        this.source = Objects.requireNonNull(source, "source");
        this.last = resumeAfter;
        this.firstNumber = firstNumber;
    }

    @Override
    public BlockEvent next(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long head = source.head();
            long wanted = last != null ? last.number() + 1 : firstNumber >= 0 ? firstNumber : head;
            if (head >= 0 && head >= wanted) {
                noteCatchUp(wanted, head);
                try {
                    return deliver(source.blockAt(wanted, remaining(deadline)));
                } catch (ChainUnavailableException e) {
                    log.warn("block {} not available yet ({}); asking again", wanted, e.getMessage());
                    if (remaining(deadline).isZero()) {
                        return null;
                    }
                    Thread.sleep(Math.min(RETRY_PAUSE.toMillis(), remaining(deadline).toMillis()));
                    continue;
                }
            }
            Duration left = remaining(deadline);
            if (left.isZero() || !source.awaitHead(Math.max(wanted, 0), left)) {
                return null;
            }
        }
    }

    @Override
    public Block lastDelivered() {
        return last;
    }

    @Override
    public void close() {
        source.close();
    }

    private BlockEvent deliver(Block block) {
        if (block.number() != (last == null ? block.number() : last.number() + 1)) {
            throw new IllegalStateException("source returned block " + block.number() + " when asked for "
                    + (last.number() + 1));
        }
        boolean reorg = last != null && !block.parentHash().equals(last.hash());
        if (reorg) {
            log.error("CHAIN REORGANISATION at block {}: its parent is {} but the block delivered before it was {};"
                    + " delivering it flagged as a reorg", block.number(), block.parentHash(), last);
        }
        last = block;
        return new BlockEvent(block, reorg);
    }

    /** One log line per catch-up: the consumer is behind the head and gets the blocks in between by number. */
    private void noteCatchUp(long wanted, long head) {
        if (head > wanted && wanted > catchingUpTo) {
            log.info("behind the chain head {}: fetching blocks {}..{} by number", head, wanted, head - 1);
            catchingUpTo = head;
        }
    }

    private static Duration remaining(long deadline) {
        return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }
}
