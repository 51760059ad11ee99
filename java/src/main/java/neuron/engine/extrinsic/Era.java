package neuron.engine.extrinsic;

import neuron.engine.chain.scale.ScaleWriter;

/**
 * When a signed extrinsic is valid (Substrate's {@code generic::Era}). A mortal one is valid for {@code period}
 * blocks from its birth block, whose hash it signs; an immortal one forever, signing the genesis hash instead.
 */
public record Era(long period, long phase) {
    public static final Era IMMORTAL = new Era(0, 0);
    private static final long MAX_PERIOD = 1 << 16;

    /** A mortal era of at least {@code period} blocks (a power of two, 4 to 65536) born at block {@code current}. */
    public static Era mortal(long period, long current) {
        if (period < 1 || current < 0) {
            throw new IllegalArgumentException("a mortal era needs a period of at least 1 and a block, got " + period
                    + " at " + current);
        }
        long wanted = Math.min(period, MAX_PERIOD);
        long powerOfTwo = wanted == 1 ? 1 : Long.highestOneBit(wanted - 1) << 1;
        long rounded = Math.min(MAX_PERIOD, Math.max(4, powerOfTwo));
        long quantize = Math.max(rounded >> 12, 1);
        return new Era(rounded, current % rounded / quantize * quantize);
    }

    public boolean immortal() {
        return period == 0;
    }

    /** The block whose hash the extrinsic signs when submitted at block {@code current}. */
    public long birth(long current) {
        return immortal() ? 0 : (Math.max(current, phase) - phase) / period * period + phase;
    }

    /** The first block at which it is no longer valid. */
    public long death(long current) {
        return immortal() ? Long.MAX_VALUE : birth(current) + period;
    }

    /** One byte 0 for immortal, else two: log2(period) - 1 in the low 4 bits, the quantized phase above. */
    public byte[] encode() {
        if (immortal()) {
            return new byte[] {0};
        }
        long quantize = Math.max(period >> 12, 1);
        int low = Math.min(15, Math.max(1, Long.numberOfTrailingZeros(period) - 1));
        return new ScaleWriter().u16(low | (int) (phase / quantize) << 4).toByteArray();
    }
}
