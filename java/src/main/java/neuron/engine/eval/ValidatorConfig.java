package neuron.engine.eval;

import neuron.engine.train.ModelConfig;
import neuron.engine.train.StateTrees;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What fixes a validator's evaluation, saved in its checkpoint so a restart or a replay evaluates the same way.
 * The defaults are the reference system's constants ({@code window_length} 3 blocks, moving average alpha 0.85,
 * 256 uids).
 *
 * @param blocksPerWindow blocks in a window: window = block / blocksPerWindow
 * @param graceBlocks     window w is evaluated at the first block at or past its end plus this many blocks, so
 *                        miners have time to publish
 * @param alpha           scores[uid] = alpha * scores[uid] + (1 - alpha) * score
 * @param evalRows        sequences in the evaluation batch, a pure function of (seed, window)
 */
public record ValidatorConfig(ModelConfig model, long seed, String data, int blocksPerWindow, int graceBlocks,
                              double alpha, int maxUids, int evalRows, int threads) {
    public static final int DEFAULT_BLOCKS_PER_WINDOW = 3;
    public static final double DEFAULT_ALPHA = 0.85;
    public static final int DEFAULT_MAX_UIDS = 256;

    public ValidatorConfig {
        if (blocksPerWindow <= 0 || graceBlocks < 0 || maxUids <= 0 || evalRows <= 0 || threads <= 0) {
            throw new IllegalArgumentException("blocks per window, uids, rows and threads must be positive");
        }
        if (!(alpha >= 0 && alpha < 1)) {
            throw new IllegalArgumentException("the moving-average alpha must lie in [0, 1), got " + alpha);
        }
    }

    /** The window a block belongs to. */
    public long windowOf(long block) {
        return block / blocksPerWindow;
    }

    /** The first block at which window {@code w} is evaluated. */
    public long evaluationBlock(long window) {
        return (window + 1) * blocksPerWindow + graceBlocks;
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
        map.put("threads", (long) threads);
        return map;
    }

    public static ValidatorConfig fromMap(Map<?, ?> map) {
        return new ValidatorConfig(ModelConfig.fromMap(StateTrees.map(map, "model")), StateTrees.longValue(map, "seed"),
                StateTrees.as(String.class, map, "data"), StateTrees.intValue(map, "blocks_per_window"),
                StateTrees.intValue(map, "grace_blocks"), StateTrees.doubleValue(map, "alpha"),
                StateTrees.intValue(map, "max_uids"), StateTrees.intValue(map, "eval_rows"),
                StateTrees.intValue(map, "threads"));
    }
}
