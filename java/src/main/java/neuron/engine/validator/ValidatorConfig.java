package neuron.engine.validator;

import neuron.engine.checkpoint.UsageException;
import neuron.engine.model.ModelConfig;
import neuron.engine.model.StateTrees;
import neuron.engine.network.WindowData;
import neuron.engine.network.WindowSchedule;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What fixes a validator's evaluation, saved in its checkpoint so a restart or a replay evaluates the same way.
 * Miners and validators of one network use the same model, seed, data and window length.
 *
 * @param blocksPerWindow blocks in a window ({@link #schedule()})
 * @param graceBlocks     window w is evaluated at the first block at or past its end plus this many blocks
 * @param alpha           scores[uid] = alpha * scores[uid] + (1 - alpha) * score of the window
 * @param evalRows        the validator's own rows per window, a pure function of (seed, window)
 * @param assignedRows    a miner's assigned rows per window, a pure function of (seed, uid, window)
 * @param heldOutRows     the rows of the network's held-out loss, a pure function of the seed
 */
public record ValidatorConfig(ModelConfig model, long seed, String data, int blocksPerWindow, int graceBlocks,
                              double alpha, int maxUids, int evalRows, int assignedRows, int heldOutRows,
                              int threads) {
    public static final double DEFAULT_ALPHA = 0.85;
    public static final int DEFAULT_MAX_UIDS = 256;
    public static final int DEFAULT_EVAL_ROWS = 16;
    public static final int DEFAULT_HELD_OUT_ROWS = 32;

    public ValidatorConfig {
        new WindowSchedule(blocksPerWindow, graceBlocks);  // checks the window's length
        if (maxUids <= 0 || evalRows <= 0 || assignedRows <= 0 || heldOutRows <= 0 || threads <= 0) {
            throw new UsageException("uids, rows and threads must be positive");
        }
        if (!(alpha >= 0 && alpha < 1)) {
            throw new UsageException("the moving-average alpha must lie in [0, 1), got " + alpha);
        }
    }

    /** The defaults for a network of {@code model}, {@code seed} and {@code blocksPerWindow}. */
    public static ValidatorConfig of(ModelConfig model, long seed, String data, int blocksPerWindow, int threads) {
        return new ValidatorConfig(model, seed, data, blocksPerWindow, WindowSchedule.DEFAULT_GRACE_BLOCKS,
                DEFAULT_ALPHA, DEFAULT_MAX_UIDS, DEFAULT_EVAL_ROWS, WindowData.DEFAULT_ASSIGNED_ROWS, DEFAULT_HELD_OUT_ROWS, threads);
    }

    /** The network's windows: which block belongs to which, when each is evaluated. */
    public WindowSchedule schedule() {
        return new WindowSchedule(blocksPerWindow, graceBlocks);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("model", model.toMap());
        map.put("seed", seed);
        map.put("data", data);
        map.put("blocks_per_window", (long) blocksPerWindow);
        map.put("grace_blocks", (long) graceBlocks);
        map.put("alpha", alpha);
        map.put("max_uids", (long) maxUids);
        map.put("eval_rows", (long) evalRows);
        map.put("assigned_rows", (long) assignedRows);
        map.put("held_out_rows", (long) heldOutRows);
        map.put("threads", (long) threads);
        return map;
    }

    /** The configuration a checkpoint saved; a key it lacks (an older checkpoint's) keeps {@code fallback}'s value. */
    public static ValidatorConfig fromMap(Map<?, ?> map, ValidatorConfig fallback) {
        return new ValidatorConfig(
                map.containsKey("model") ? ModelConfig.fromMap(StateTrees.map(map, "model")) : fallback.model(),
                map.containsKey("seed") ? StateTrees.longValue(map, "seed") : fallback.seed(),
                map.containsKey("data") ? StateTrees.as(String.class, map, "data") : fallback.data(),
                intOr(map, "blocks_per_window", fallback.blocksPerWindow()),
                intOr(map, "grace_blocks", fallback.graceBlocks()),
                map.containsKey("alpha") ? StateTrees.doubleValue(map, "alpha") : fallback.alpha(),
                intOr(map, "max_uids", fallback.maxUids()), intOr(map, "eval_rows", fallback.evalRows()),
                intOr(map, "assigned_rows", fallback.assignedRows()),
                intOr(map, "held_out_rows", fallback.heldOutRows()), intOr(map, "threads", fallback.threads()));
    }

    private static int intOr(Map<?, ?> map, String key, int fallback) {
        return map.containsKey(key) ? StateTrees.intValue(map, key) : fallback;
    }
}
