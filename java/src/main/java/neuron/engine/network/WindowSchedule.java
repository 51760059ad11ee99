package neuron.engine.network;

/**
 * The window protocol's clock, the same for every miner and validator of a network: window {@code w} is the
 * blocks {@code w·B … (w+1)·B − 1}; a miner submits its update from block {@code (w+1)·B − 1 − max(2, B/5)} on, so
 * that its commitment still reaches a block of {@code w} when the head it sees, or its call, is a little late; a
 * validator evaluates {@code w} at block {@code (w+1)·B + grace}.
 *
 * @param blocksPerWindow {@code B}, the blocks in a window
 * @param graceBlocks     the blocks a validator waits past a window's end before evaluating it
 */
public record WindowSchedule(int blocksPerWindow, int graceBlocks) {
    public static final int DEFAULT_BLOCKS_PER_WINDOW = 10;
    /** Training, submitting a few blocks before the end, and the commitment's inclusion all fit in a window. */
    public static final int MIN_BLOCKS_PER_WINDOW = 5;
    public static final int DEFAULT_GRACE_BLOCKS = 1;

    public WindowSchedule {
        if (blocksPerWindow < MIN_BLOCKS_PER_WINDOW) {
            throw new IllegalArgumentException("--blocks_per_window must be at least " + MIN_BLOCKS_PER_WINDOW
                    + " (a window holds the training, the submission and its inclusion), got " + blocksPerWindow);
        }
        if (graceBlocks < 0) {
            throw new IllegalArgumentException("grace blocks must not be negative, got " + graceBlocks);
        }
    }

    /** The schedule of windows of {@code blocksPerWindow} blocks, evaluated after the default grace. */
    public static WindowSchedule of(int blocksPerWindow) {
        return new WindowSchedule(blocksPerWindow, DEFAULT_GRACE_BLOCKS);
    }

    /** The window a block belongs to. */
    public long windowOf(long block) {
        return block / blocksPerWindow;
    }

    /** The first block of {@code window}. */
    public long firstBlock(long window) {
        return window * blocksPerWindow;
    }

    /** The first block at which a miner submits its update of {@code window}. */
    public long submitBlock(long window) {
        return firstBlock(window + 1) - 1 - Math.max(2, blocksPerWindow / 5);
    }

    /**
     * The last block at which an update of {@code window} is still submitted: its commitment then reaches the
     * window's last block.
     */
    public long lastSubmitBlock(long window) {
        return firstBlock(window + 1) - 2;
    }

    /** The first block at which a validator evaluates {@code window}. */
    public long evaluationBlock(long window) {
        return firstBlock(window + 1) + graceBlocks;
    }
}
