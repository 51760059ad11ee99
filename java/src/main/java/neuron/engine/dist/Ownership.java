package neuron.engine.dist;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * ZeRO-1's split of the optimizer: which rank updates each parameter and keeps its AdamW moments. Whole
 * parameters are dealt out as PyTorch's {@code ZeroRedundancyOptimizer} deals them: largest first, each to the
 * rank with the fewest elements so far (the lowest rank on a tie), so a rank's share is within one parameter of
 * an even split. A pure function of the parameter sizes and the number of ranks: every rank computes the same.
 */
public final class Ownership {
    private final int[] owner;
    private final int ranks;

    private Ownership(int[] owner, int ranks) {
        this.owner = owner;
        this.ranks = ranks;
    }

    /** @param numels the parameters' element counts, in the model's order */
    public static Ownership of(long[] numels, int ranks) {
        if (ranks < 1) {
            throw new IllegalArgumentException("ranks must be positive, got " + ranks);
        }
        int[] owner = new int[numels.length];
        long[] load = new long[ranks];
        Integer[] bySize = IntStream.range(0, numels.length).boxed()
                .sorted(Comparator.comparingLong((Integer i) -> -numels[i])).toArray(Integer[]::new);
        for (int i : bySize) {
            int lightest = 0;
            for (int r = 1; r < ranks; r++) {
                if (load[r] < load[lightest]) {
                    lightest = r;
                }
            }
            owner[i] = lightest;
            load[lightest] += numels[i];
        }
        return new Ownership(owner, ranks);
    }

    public int ranks() {
        return ranks;
    }

    public int parameters() {
        return owner.length;
    }

    public int owner(int parameter) {
        return owner[parameter];
    }

    /** The elements each rank updates. */
    long[] loads(long[] numels) {
        long[] load = new long[ranks];
        for (int i = 0; i < owner.length; i++) {
            load[owner[i]] += numels[i];
        }
        return load;
    }

    @Override
    public String toString() {
        return "Ownership" + Arrays.toString(owner);
    }
}
