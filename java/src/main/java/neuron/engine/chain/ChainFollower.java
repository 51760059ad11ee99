package neuron.engine.chain;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import neuron.engine.chain.scale.ScaleReader;
import neuron.engine.network.ChainUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link BlockFeed} over any {@link ChainSource}: it asks the source for block {@code last + 1} by number, so
 * whatever the source missed or the consumer was too slow for is caught up in order, and it checks every block's
 * parent against the block delivered before it. When they differ the chain reorganised: it walks back through the
 * blocks it delivered, asking the source for the canonical block at each number, to the newest one still on the
 * chain (the common ancestor), and delivers the block after it, flagged, so that the consumer rolls back to the
 * ancestor and continues on the new branch.
 */
public final class ChainFollower implements BlockFeed {
    /** How many delivered blocks are kept to find a common ancestor in: far deeper than a Substrate reorganisation. */
    public static final int HISTORY = 1024;
    private static final Logger log = LoggerFactory.getLogger(ChainFollower.class);
    /** How long to wait before asking again when the source could not answer (reconnecting, server restarting). */
    private static final Duration RETRY_PAUSE = Duration.ofMillis(50);
    /**
     * How long one fetch may take, whatever the caller's timeout: that bounds the wait for a block to appear, and
     * a node slower to answer than a short poll must still be followed.
     */
    private static final Duration FETCH_TIMEOUT = Duration.ofSeconds(10);

    private final ChainSource source;
    /** The first block to deliver when there is no block to resume after; -1 for the chain's head. */
    private final long firstNumber;
    /** The blocks delivered last, oldest first; its last one is the last delivered. */
    private final Deque<Block> history = new ArrayDeque<>();
    private long catchingUpTo = -1;

    /**
     * @param resumeAfter the last block the consumer already has (e.g. the journal's last block), so that the feed
     *     continues with the next number and checks its parent; null to start at the chain's head
     */
    public ChainFollower(ChainSource source, Block resumeAfter) {
        this(source, resumeAfter == null ? List.of() : List.of(resumeAfter));
    }

    /**
     * @param recent the blocks the consumer has, oldest first (e.g. the journal's last canonical blocks): the feed
     *     continues after the last one and can roll back to any of them; empty to start at the chain's head
     */
    public ChainFollower(ChainSource source, List<Block> recent) {
        this(source, recent, -1);
    }

    /**
     * As {@link #ChainFollower(ChainSource, List)}; with no {@code recent} block the feed starts at block
     * {@code firstNumber} (e.g. 0: the whole history, fetched by number), or at the head when it is -1.
     */
    public ChainFollower(ChainSource source, List<Block> recent, long firstNumber) {
        this.source = Objects.requireNonNull(source, "source");
        this.firstNumber = firstNumber;
        recent.stream().skip(Math.max(0, recent.size() - HISTORY)).forEach(history::addLast);
    }

    @Override
    public BlockEvent next(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Block last = history.peekLast();
            long head = source.head();
            long wanted = last != null ? last.number() + 1 : firstNumber >= 0 ? firstNumber : head;
            if (head >= 0 && head >= wanted) {
                noteCatchUp(wanted, head);
                try {
                    return deliver(source.blockAt(wanted, FETCH_TIMEOUT), System.nanoTime() + FETCH_TIMEOUT.toNanos());
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
        return history.peekLast();
    }

    @Override
    public byte[] storage(byte[] key, Block at, Duration timeout) throws ChainUnavailableException, InterruptedException {
        return source.storage(key, at, timeout);
    }

    @Override
    public long timestamp(Block at, Duration timeout) throws ChainUnavailableException, InterruptedException {
        byte[] now = source.storage(StorageKeys.timestampNow(), at, timeout);
        if (now == null || now.length != Long.BYTES) {
            throw new ChainUnavailableException("no Timestamp.Now (u64) at " + at);
        }
        return new ScaleReader(now).u64();
    }

    @Override
    public void close() {
        source.close();
    }

    private BlockEvent deliver(Block block, long deadline) throws ChainUnavailableException, InterruptedException {
        Block last = history.peekLast();
        if (last != null && block.number() != last.number() + 1) {
            throw new IllegalStateException("source returned block " + block.number() + " when asked for "
                    + (last.number() + 1));
        }
        if (last == null || block.parentHash().equals(last.hash())) {
            remember(block);
            return new BlockEvent(block, false);
        }
        Block ancestor = commonAncestor(deadline);
        if (ancestor == null) {
            log.error("CHAIN REORGANISATION at block {}: its parent is {}, not the block delivered before it ({}), and"
                    + " none of the {} blocks delivered before is still on the chain; delivering it flagged as a"
                    + " reorg without a rollback", block.number(), block.parentHash(), last, history.size());
            history.clear();
            remember(block);
            return new BlockEvent(block, true);
        }
        Block first = source.blockAt(ancestor.number() + 1, remaining(deadline));
        if (!first.parentHash().equals(ancestor.hash())) {
            throw new ChainUnavailableException("the chain changed again while rolling back to " + ancestor);
        }
        log.error("CHAIN REORGANISATION: blocks {}..{} were replaced; rolling back to the common ancestor {} and"
                + " continuing with {}", ancestor.number() + 1, last.number(), ancestor, first);
        while (!history.peekLast().equals(ancestor)) {
            history.removeLast();
        }
        remember(first);
        return new BlockEvent(first, true);
    }

    /** The newest delivered block that is still the source's canonical block at its number; null if none is. */
    private Block commonAncestor(long deadline) throws ChainUnavailableException, InterruptedException {
        for (Iterator<Block> it = history.descendingIterator(); it.hasNext(); ) {
            Block delivered = it.next();
            if (source.blockAt(delivered.number(), remaining(deadline)).equals(delivered)) {
                return delivered;
            }
        }
        return null;
    }

    private void remember(Block block) {
        history.addLast(block);
        if (history.size() > HISTORY) {
            history.removeFirst();
        }
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
