package neuron.engine.network;

import neuron.engine.model.BatchPlan;
import neuron.engine.model.TokenData;

/**
 * The token rows of the window protocol, each a pure function of the network's seed and what every node knows:
 * a miner's assigned data for a window (seed, uid, window), the validator's own evaluation data for a window
 * (seed, window), and the held-out rows the network's loss is measured on (seed). Rows are windows of
 * {@code width} tokens ({@link TokenData#fillBatch}); the salts keep the three families apart.
 */
public final class WindowData {
    private static final long ASSIGNED_SALT = 0x5a55_1e4e_d000_0000L;
    private static final long OWN_SALT = 0x0a11_da7a_0000_0001L;
    private static final long HELD_OUT_SALT = 0x4e1d_0e7e_0000_0002L;

    private WindowData() {
    }

    /** The rows a window assigns each miner, unless a network's validators configure another number. */
    public static final int DEFAULT_ASSIGNED_ROWS = 32;

    /** Miner {@code uid}'s assigned rows for {@code window}: what it trains on, and what it is measured on. */
    public static void assigned(TokenData data, long seed, int uid, long window, int rows, int width, long[] out) {
        data.fillBatch(seed ^ ASSIGNED_SALT ^ ((long) uid << 20), window, rows, width, out);
    }

    /** Training batches that take miner {@code uid}'s assigned rows of {@code window} in turn, step after step. */
    public static BatchPlan assignedBatches(TokenData data, long seed, int uid, long window, int rows, int width) {
        long[] pool = new long[rows * width];
        assigned(data, seed, uid, window, rows, width, pool);
        return (tokens, step, firstRow, batchRows, batchWidth, out) -> {
            for (int r = 0; r < batchRows; r++) {
                int row = (int) Math.floorMod(step * batchRows + firstRow + r, (long) rows);
                System.arraycopy(pool, row * width, out, r * batchWidth, batchWidth);
            }
        };
    }

    /** The validator's own rows for {@code window}: data no miner was assigned. */
    public static void own(TokenData data, long seed, long window, int rows, int width, long[] out) {
        data.fillBatch(seed ^ OWN_SALT, window, rows, width, out);
    }

    /** The held-out rows: the same for every window, so the network's loss on them is comparable over time. */
    public static void heldOut(TokenData data, long seed, int rows, int width, long[] out) {
        data.fillBatch(seed ^ HELD_OUT_SALT, 0, rows, width, out);
    }
}
