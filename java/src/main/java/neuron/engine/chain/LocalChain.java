package neuron.engine.chain;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import neuron.engine.chain.scale.ScaleWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded chain ({@code --chain local}): block {@code firstNumber} exists at start-up and one more every
 * {@code blockTimeMs}. Blocks are real Substrate blocks of {@link LocalRuntime} (hash = BLAKE2b-256 of the SCALE
 * header, each header naming its parent's hash) and a pure function of (seed, block time, branch, number): a chain
 * restarted with the same seed has the same blocks. Blocks {@value #FINALITY_LAG} behind the head are final and can
 * no longer be replaced.
 */
public final class LocalChain implements ChainSource {
    public static final String DEFAULT_SEED = "neuron-local-chain";
    /** How many blocks behind the head finality is, as with GRANDPA on a healthy network. */
    public static final int FINALITY_LAG = 2;
    /** The highest first block: every block from genesis up to it is built at start-up. */
    public static final long MAX_FIRST_NUMBER = 10_000_000;
    private static final Logger log = LoggerFactory.getLogger(LocalChain.class);
    /** {@code DigestItem::Other}'s index. */
    private static final int DIGEST_OTHER = 0;

    private final byte[] seed;
    private final LocalRuntime runtime;
    private final long blockTimeNanos;
    private final long firstNumber;
    private final long startNanos;
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
        this.runtime = new LocalRuntime(blockTimeMs);
        this.blockTimeNanos = TimeUnit.MILLISECONDS.toNanos(blockTimeMs);
        this.firstNumber = firstNumber;
        hashOf(firstNumber); // the chain up to its first block exists before its clock starts
        this.startNanos = System.nanoTime();
    }

    @Override
    public long head() {
        return firstNumber + (System.nanoTime() - startNanos) / blockTimeNanos;
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

    /** Any block by number, produced or not: what the chain has or will have there on its current branches. */
    Block block(long number) {
        return new Block(number, hashOf(number), number == 0 ? Hash32.ZERO : hashOf(number - 1));
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

    /** Builds the hashes up to {@code number} in order (each header names its parent) and keeps them. */
    private synchronized Hash32 hashOf(long number) {
        while (hashCount <= number) {
            Hash32 parent = hashCount == 0 ? Hash32.ZERO : storedHash(hashCount - 1);
            Hash32 hash = runtime.header(hashCount, parent, digest(hashCount)).hash();
            if ((hashCount + 1) * Hash32.LENGTH > hashes.length) {
                hashes = Arrays.copyOf(hashes, Math.toIntExact(Math.max(2L * hashes.length, (hashCount + 1) * Hash32.LENGTH)));
            }
            System.arraycopy(hash.bytesView(), 0, hashes, Math.toIntExact(hashCount * Hash32.LENGTH), Hash32.LENGTH);
            hashCount++;
        }
        return storedHash(number);
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
        long blocks = Math.min(number - firstNumber, Long.MAX_VALUE / blockTimeNanos - 1);
        return startNanos + blocks * blockTimeNanos;
    }
}
