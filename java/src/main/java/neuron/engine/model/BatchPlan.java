package neuron.engine.model;

/**
 * Chooses the token rows of each training step's batch. The miner's own plan draws them from (seed, global step);
 * a miner in a network trains on the rows its window assigns it instead.
 */
@FunctionalInterface
public interface BatchPlan {
    /**
     * Fills {@code out} (rows × width, row-major) with rows {@code firstRow .. firstRow + rows} of the batch of
     * step {@code globalStep} (a rank of a data-parallel group takes its share of the global batch).
     */
    void fill(TokenData data, long globalStep, int firstRow, int rows, int width, long[] out);
}
