package neuron.engine.network;

import java.util.Collections;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The weights one validator set on the chain, as the Bittensor chain keeps them: u16 values by miner uid that sum
 * to 65535, and the block that included them.
 */
public record ChainWeights(int validatorUid, long block, SortedMap<Integer, Integer> values) {
    /** What the values of one validator sum to. */
    public static final int TOTAL = 65_535;

    public ChainWeights {
        Objects.requireNonNull(values, "values");
        values = Collections.unmodifiableSortedMap(new TreeMap<>(values));
        // as the chain takes them: uids 0..65535, values 0..65535 summing to exactly 65535
        Commitment.checkUid("validator uid", validatorUid);
        long sum = 0;
        for (var e : values.entrySet()) {
            if (e.getKey() < 0 || e.getKey() > Commitment.MAX_UID || e.getValue() < 0 || e.getValue() > TOTAL) {
                throw new IllegalArgumentException("a weight is a uid 0.." + Commitment.MAX_UID + " and a u16 value, got "
                        + e.getKey() + " -> " + e.getValue());
            }
            sum += e.getValue();
        }
        if (sum != TOTAL) {
            throw new IllegalArgumentException("weights must sum to " + TOTAL + ", these sum to " + sum);
        }
    }
}
