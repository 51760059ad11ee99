package neuron.engine.chain;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded chain ({@code --chain local}): block {@code firstNumber} exists at start-up and one more every
 * {@code blockTimeMs}. Hashes are a pure function of (seed, branch, number), so a chain restarted with the same seed
 * has the same blocks, and any block up to the head can be looked up by number without keeping history.
 *
 * <p>It takes the window protocol's calls ({@link WindowChain}): a commitment or a weight vector submitted while
 * block {@code h} is the head goes into block {@code h + 1}. The inclusion and the reads of a block are decided
 * under one lock against a head that only grows, so once a block exists its commitments never change. They live
 * in memory: a restarted chain has its blocks back, not its commitments.
 */
public final class LocalChain implements ChainSource, WindowChain {
    public static final String DEFAULT_SEED = "neuron-local-chain";
    /** Bounds what one block holds (and so what a flood of commitments can make the chain keep). */
    static final int MAX_COMMITMENTS_PER_BLOCK = 4_096;
    private static final Logger log = LoggerFactory.getLogger(LocalChain.class);

    private final byte[] seed;
    private final long blockTimeNanos;
    private final long firstNumber;
    private final long startNanos = System.nanoTime();
    /** The head of a chain that makes blocks on demand ({@link #onDemand}); unused by a timed one. */
    private final AtomicLong madeOnDemand;
    /** First block number of each branch: 0 → branch 0, and one entry per {@link #reorganise}. */
    private final NavigableMap<Long, Integer> branchFrom = new ConcurrentSkipListMap<>(Map.of(0L, 0));
    private final AtomicInteger branches = new AtomicInteger();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Guards what blocks include: commitments by block number, weights by validator uid and block. */
    private final Object inclusion = new Object();
    private final Map<Long, List<Commitment>> commitments = new HashMap<>();
    private final Map<Integer, NavigableMap<Long, ChainWeights>> weights = new HashMap<>();
    private volatile boolean closed;

    public LocalChain(String seed, long blockTimeMs, long firstNumber) {
        if (blockTimeMs <= 0) {
            throw new IllegalArgumentException("block time must be positive, got " + blockTimeMs + " ms");
        }
        if (firstNumber < 0) {
            throw new IllegalArgumentException("the first block number must be >= 0, got " + firstNumber);
        }
        this.seed = seed.getBytes(StandardCharsets.UTF_8);
        this.blockTimeNanos = TimeUnit.MILLISECONDS.toNanos(blockTimeMs);
        this.firstNumber = firstNumber;
        this.madeOnDemand = null;
    }

    private LocalChain(String seed) {
        this.seed = seed.getBytes(StandardCharsets.UTF_8);
        this.blockTimeNanos = Long.MAX_VALUE;
        this.firstNumber = 0;
        this.madeOnDemand = new AtomicLong();
    }

    /**
     * Test hook: a chain whose block 0 exists at once and each next block only when {@link #makeBlock} is called
     * (as chopsticks' {@code dev_newBlock}), so a test can hold the chain back while its nodes are slow.
     */
    public static LocalChain onDemand(String seed) {
        return new LocalChain(seed);
    }

    /** Makes the next block of a chain {@link #onDemand}. */
    public void makeBlock() {
        madeOnDemand.incrementAndGet();
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long head() {
        return madeOnDemand != null ? madeOnDemand.get() : firstNumber + (System.nanoTime() - startNanos) / blockTimeNanos;
    }

    @Override
    public boolean awaitHead(long number, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (!closed && head() < number) {
                long now = System.nanoTime();
                long untilDue = dueNanos(number) - now;
                long untilDeadline = deadline - now;
                if (untilDeadline <= 0) {
                    return false;
                }
                changed.awaitNanos(Math.max(1, Math.min(untilDue, untilDeadline)));
            }
            return head() >= number;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Block blockAt(long number, Duration timeout) throws ChainUnavailableException {
        if (closed) {
            throw new ChainUnavailableException("the local chain is closed");
        }
        long head = head();
        if (number > head) {
            throw new ChainUnavailableException("block " + number + " is not produced yet (head " + head + ")");
        }
        return block(number);
    }

    /**
     * Any block by number, produced or not: what the chain has or will have there on its current branches (the
     * commitments of a block not produced yet are those submitted so far).
     */
    public Block block(long number) {
        return new Block(number, hashOf(number), number == 0 ? Hash32.ZERO : hashOf(number - 1), commitmentsAt(number));
    }

    private List<Commitment> commitmentsAt(long number) {
        synchronized (inclusion) {
            List<Commitment> included = commitments.get(number);
            return included == null ? List.of() : List.copyOf(included);
        }
    }

    @Override
    public void commit(Commitment commitment) throws ChainUnavailableException {
        synchronized (inclusion) {
            long block = nextBlock();
            List<Commitment> included = commitments.computeIfAbsent(block, b -> new ArrayList<>());
            if (included.size() >= MAX_COMMITMENTS_PER_BLOCK) {
                throw new ChainUnavailableException("block " + block + " is full (" + MAX_COMMITMENTS_PER_BLOCK
                        + " commitments); try again in the next one");
            }
            included.add(commitment);
            log.debug("block {} includes the {}", block, commitment);
        }
    }

    @Override
    public void setWeights(int validatorUid, SortedMap<Integer, Integer> values) throws ChainUnavailableException {
        synchronized (inclusion) {
            long block = nextBlock();
            NavigableMap<Long, ChainWeights> history = weights.computeIfAbsent(validatorUid, uid -> new TreeMap<>());
            history.put(block, new ChainWeights(validatorUid, block, values));
            Long current = history.floorKey(head());
            if (current != null) {
                history.headMap(current, false).clear();  // older sets are no longer readable at any head
            }
        }
    }

    @Override
    public Optional<ChainWeights> weights(int validatorUid) {
        synchronized (inclusion) {
            NavigableMap<Long, ChainWeights> history = weights.get(validatorUid);
            Map.Entry<Long, ChainWeights> current = history == null ? null : history.floorEntry(head());
            return current == null ? Optional.empty() : Optional.of(current.getValue());
        }
    }

    private long nextBlock() throws ChainUnavailableException {
        if (closed) {
            throw new ChainUnavailableException("the local chain is closed");
        }
        return head() + 1;
    }

    /**
     * Test hook and demo switch: the blocks from {@code fromNumber} on are replaced by a new branch, as in a chain
     * reorganisation; a follower that already has block {@code fromNumber} sees the next block's parent change.
     */
    public synchronized void reorganise(long fromNumber) {
        if (fromNumber < 1) {
            throw new IllegalArgumentException("the genesis block cannot be replaced; got " + fromNumber);
        }
        int branch = branches.incrementAndGet();
        branchFrom.tailMap(fromNumber, true).clear();
        branchFrom.put(fromNumber, branch);
        log.warn("local chain reorganised: blocks from {} are now on branch {}", fromNumber, branch);
    }

    @Override
    public void close() {
        closed = true;
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private Hash32 hashOf(long number) {
        int branch = branchFrom.floorEntry(number).getValue();
        return Hash32.sha256(seed, ByteBuffer.allocate(12).putInt(branch).putLong(number).array());
    }

    private long dueNanos(long number) {
        if (madeOnDemand != null) {
            return Long.MAX_VALUE;  // made when asked for: wait until signalled
        }
        long blocks = Math.min(number - firstNumber, Long.MAX_VALUE / blockTimeNanos - 1);
        return startNanos + blocks * blockTimeNanos;
    }
}
