package neuron.engine.model;

/** SplitMix64 (Steele, Lea, Flood 2014), spelled out so that batches never depend on a JDK's Random. */
final class SplitMix64 {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private SplitMix64() {
    }

    static long next(long state) {
        return state + GOLDEN_GAMMA;
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A well-mixed hash of a sequence of longs: each value is folded into the state and re-mixed. */
    static long hash(long... values) {
        long h = 0;
        for (long v : values) {
            h = mix(next(h ^ v));
        }
        return h;
    }
}
