package neuron.engine.journal;

import net.openhft.chronicle.core.time.TimeProvider;

/**
 * The journal's clock for Chronicle's roll cycles: it reads the highest block number journaled, not the wall clock,
 * so cycle {@code k} holds exactly what was appended while that number was in {@code [k·B, (k+1)·B)} (B blocks per
 * cycle). Every block in cycle k is then below {@code (k+1)·B}, which is what makes retention by block number and
 * seeking by block number sound, across restarts and reorgs. It never runs backwards.
 */
final class BlockClock implements TimeProvider {
    /** The roll cycle's length: the journal uses FAST_DAILY, so one "day" is one cycle of B blocks. */
    static final long CYCLE_MILLIS = 86_400_000L;

    private final int blocksPerCycle;
    private volatile long highestBlock;

    BlockClock(int blocksPerCycle, long highestBlock) {
        this.blocksPerCycle = blocksPerCycle;
        this.highestBlock = highestBlock;
    }

    /** Called by the single appending thread before each block is written. */
    void advanceTo(long block) {
        if (block > highestBlock) {
            highestBlock = block;
        }
    }

    int cycleOf(long block) {
        return Math.toIntExact(block / blocksPerCycle);
    }

    /** Every block in {@code cycle} is at most this. */
    long lastBlockBound(int cycle) {
        return (cycle + 1L) * blocksPerCycle - 1;
    }

    @Override
    public long currentTimeMillis() {
        return cycleOf(highestBlock) * CYCLE_MILLIS;
    }

    @Override
    public long currentTimeMicros() {
        return currentTimeMillis() * 1_000;
    }

    @Override
    public long currentTimeNanos() {
        return currentTimeMillis() * 1_000_000;
    }
}
