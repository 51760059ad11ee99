package neuron.engine.chain.local;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.SortedMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import neuron.engine.chain.Block;
import neuron.engine.chain.ChainSource;
import neuron.engine.chain.Header;
import neuron.engine.chain.scale.ScaleWriter;
import neuron.engine.network.ChainUnavailableException;
import neuron.engine.network.ChainWeights;
import neuron.engine.network.Commitment;
import neuron.engine.network.Hash32;
import neuron.engine.network.WindowChain;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded chain ({@code --chain local}): block {@code firstNumber} exists at start-up and one more every
 * {@code blockTimeMs}. Blocks are real Substrate blocks of {@link LocalRuntime} (hash = BLAKE2b-256 of the SCALE
 * header, each header naming its parent's hash) and a pure function of (seed, block time, branch, number, what they
 * include): a chain restarted with the same seed has the same blocks. Blocks {@value #FINALITY_LAG} behind the head
 * are final and can no longer be replaced.
 *
 * <p>It takes the window protocol's calls ({@link WindowChain}): a commitment or a weight vector submitted while
 * block {@code h} is the head goes into block {@code h + 1}. Inclusion and the hashing of produced blocks are
 * decided under one lock against a head that only grows, so once a block is produced and hashed what it includes
 * never changes; its storage holds them as {@code Commitments.CommitmentOf} and {@code SubtensorModule.Weights}. They live in
 * memory: a restarted chain has its blocks back, not its commitments.
 */
public final class LocalChain implements ChainSource, WindowChain {
    public static final String DEFAULT_SEED = "neuron-local-chain";
    /** How many blocks behind the head finality is, as with GRANDPA on a healthy network. */
    public static final int FINALITY_LAG = 2;
    /** The highest first block: every block from genesis up to it is built at start-up. */
    public static final long MAX_FIRST_NUMBER = 10_000_000;
    /** The block time a chain {@link #onDemand} gives its blocks' timestamps. */
    private static final long ON_DEMAND_BLOCK_TIME_MS = 1_000;
    private static final Logger log = LoggerFactory.getLogger(LocalChain.class);
    /** {@code DigestItem::Other}'s index. */
    private static final int DIGEST_OTHER = 0;

    private final byte[] seed;
    private final LocalRuntime runtime;
    private final long blockTimeNanos;
    private final long firstNumber;
    private final long startNanos;
    /** The head of a chain that makes blocks on demand ({@link #onDemand}); unused by a timed one. */
    private final AtomicLong madeOnDemand;
    private final ChainState state = new ChainState();
    /** First block number of each branch: 0 → branch 0, and one entry per {@link #reorganise}. */
    private final NavigableMap<Long, Integer> branchFrom = new ConcurrentSkipListMap<>(Map.of(0L, 0));
    private final AtomicInteger branches = new AtomicInteger();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** The hashes of blocks 0..hashCount-1 on the current branches, built in order since each names its parent. */
    private byte[] hashes = new byte[1024 * Hash32.LENGTH];
    private long hashCount;
    private volatile boolean closed;

    public LocalChain(String seed, long blockTimeMs, long firstNumber) {
        if (blockTimeMs <= 0) {
            throw new IllegalArgumentException("block time must be positive, got " + blockTimeMs + " ms");
        }
        if (firstNumber < 0 || firstNumber > MAX_FIRST_NUMBER) {
            throw new IllegalArgumentException("the first block number must be 0.." + MAX_FIRST_NUMBER + ", got "
                    + firstNumber);
        }
        this.seed = seed.getBytes(StandardCharsets.UTF_8);
        this.runtime = new LocalRuntime(blockTimeMs, state);
        this.blockTimeNanos = TimeUnit.MILLISECONDS.toNanos(blockTimeMs);
        this.firstNumber = firstNumber;
        this.madeOnDemand = null;
        hashOf(firstNumber, firstNumber); // the chain up to its first block exists before its clock starts
        this.startNanos = System.nanoTime();
    }

    private LocalChain(String seed) {
        this.seed = seed.getBytes(StandardCharsets.UTF_8);
        this.runtime = new LocalRuntime(ON_DEMAND_BLOCK_TIME_MS, state);
        this.blockTimeNanos = Long.MAX_VALUE;
        this.firstNumber = 0;
        this.madeOnDemand = new AtomicLong();
        this.startNanos = System.nanoTime();
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

    @Override
    public byte[] storage(byte[] key, Block at, Duration timeout) throws ChainUnavailableException {
        if (at.number() > head() || !block(at.number()).equals(at)) {
            throw new ChainUnavailableException(at + " is not a block of the local chain");
        }
        return runtime.storage(at.number(), at.parentHash()).get(key);
    }

    /**
     * Any block by number, produced or not, with the commitments it includes: what the chain has or will have there
     * on its current branches (a block not produced yet: with what it includes so far).
     */
    public Block block(long number) {
        Hash32 hash = hashOf(number);
        return new Block(number, hash, number == 0 ? Hash32.ZERO : hashOf(number - 1), state.commitmentsIn(number));
    }

    @Override
    public void commit(Commitment commitment) throws ChainUnavailableException {
        synchronized (this) {
            long block = nextBlock();
            state.include(block, commitment);
            log.debug("block {} includes the {}", block, commitment);
        }
    }

    @Override
    public void setWeights(int validatorUid, SortedMap<Integer, Integer> values) throws ChainUnavailableException {
        synchronized (this) {
            long block = nextBlock();
            state.include(new ChainWeights(validatorUid, block, values));
        }
    }

    @Override
    public Optional<ChainWeights> weights(int validatorUid) {
        return state.weightsAsOf(validatorUid, head());
    }

    /** The block a submission made now goes into: the next one (a produced block's hash has fixed its content). */
    private long nextBlock() throws ChainUnavailableException {
        if (closed) {
            throw new ChainUnavailableException("the local chain is closed");
        }
        return Math.max(head() + 1, hashCount);
    }

    /** The header of any block by number, as {@link #block} would have it. */
    Header header(long number) {
        Hash32 parent = number == 0 ? Hash32.ZERO : hashOf(number - 1);
        return runtime.header(number, parent, digest(number));
    }

    /** The newest final block: {@value #FINALITY_LAG} behind the head (the genesis block while the chain is younger). */
    public long finalizedHead() {
        return Math.max(0, head() - FINALITY_LAG);
    }

    LocalRuntime runtime() {
        return runtime;
    }

    /**
     * Test hook and demo switch: the blocks from {@code fromNumber} on are replaced by a new branch, as in a chain
     * reorganisation; a follower that already has block {@code fromNumber} sees the next block's parent change.
     */
    public synchronized void reorganise(long fromNumber) {
        if (fromNumber <= finalizedHead()) {
            throw new IllegalArgumentException("block " + fromNumber + " is final (the finalized head is "
                    + finalizedHead() + ") and cannot be replaced");
        }
        int branch = branches.incrementAndGet();
        branchFrom.tailMap(fromNumber, true).clear();
        branchFrom.put(fromNumber, branch);
        hashCount = Math.min(hashCount, fromNumber);
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

    /**
     * The hash of block {@code number}: those of produced blocks are built in order (each header names its parent)
     * and kept, and from then on fix what their blocks include; a block not produced yet is hashed as it stands now
     * and not kept, since what it includes may still grow.
     */
    private Hash32 hashOf(long number) {
        return hashOf(number, head());
    }

    /** As {@link #hashOf(long)}, with blocks up to {@code produced} taken as produced. */
    private synchronized Hash32 hashOf(long number, long produced) {
        while (hashCount <= Math.min(number, produced)) {
            Hash32 parent = hashCount == 0 ? Hash32.ZERO : storedHash(hashCount - 1);
            Hash32 hash = runtime.header(hashCount, parent, digest(hashCount)).hash();
            if ((hashCount + 1) * Hash32.LENGTH > hashes.length) {
                hashes = Arrays.copyOf(hashes, Math.toIntExact(Math.max(2L * hashes.length, (hashCount + 1) * Hash32.LENGTH)));
            }
            System.arraycopy(hash.bytesView(), 0, hashes, Math.toIntExact(hashCount * Hash32.LENGTH), Hash32.LENGTH);
            hashCount++;
        }
        if (number < hashCount) {
            return storedHash(number);
        }
        Hash32 hash = hashCount == 0 ? Hash32.ZERO : storedHash(hashCount - 1);
        for (long n = hashCount; n <= number; n++) {
            hash = runtime.header(n, n == 0 ? Hash32.ZERO : hash, digest(n)).hash();
        }
        return hash;
    }

    private Hash32 storedHash(long number) {
        int from = Math.toIntExact(number * Hash32.LENGTH);
        return Hash32.adopt(Arrays.copyOfRange(hashes, from, from + Hash32.LENGTH));
    }

    /**
     * Each block carries one {@code Other} log naming the seed and its branch: chains of other seeds differ from
     * genesis on, and a replacing branch's blocks differ from the blocks they replace.
     */
    private List<byte[]> digest(long number) {
        int branch = branchFrom.floorEntry(number).getValue();
        byte[] tag = new ScaleWriter().bytes(seed).u32(branch).toByteArray();
        return List.of(new ScaleWriter().u8(DIGEST_OTHER).bytes(tag).toByteArray());
    }

    private long dueNanos(long number) {
        if (madeOnDemand != null) {
            return Long.MAX_VALUE;  // made when asked for: wait until signalled
        }
        long blocks = Math.min(number - firstNumber, Long.MAX_VALUE / blockTimeNanos - 1);
        return startNanos + blocks * blockTimeNanos;
    }
}
