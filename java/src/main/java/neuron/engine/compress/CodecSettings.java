package neuron.engine.compress;

/**
 * The parameters of the sparse update format; every party of a network uses the same, and a file made with others
 * is refused.
 *
 * @param chunkRows   rows of a chunk of a matrix (a 1-D tensor is cut into chunks of {@code chunkRows × chunkCols})
 * @param chunkCols   columns of a chunk of a matrix
 * @param topK        values kept per chunk (all of a chunk smaller than that)
 * @param valueBits   bits per kept value: 1, 2, 4 or 8 ({@code 2^valueBits} quantization levels)
 * @param rangeSigmas the width of the quantization range in standard deviations of the tensor's kept values
 */
public record CodecSettings(int chunkRows, int chunkCols, int topK, int valueBits, int rangeSigmas) {
    /** The reference system's last configuration: 64 × 64 chunks, top 64, 2-bit values over 6σ. */
    public static final CodecSettings DEFAULT = new CodecSettings(64, 64, 64, 2, 6);
    /** Indices within a chunk are stored in 12 bits. */
    public static final int MAX_CHUNK = 1 << BitPacking.INDEX_BITS;

    public CodecSettings {
        if (chunkRows < 1 || chunkCols < 1 || (long) chunkRows * chunkCols > MAX_CHUNK) {
            throw new IllegalArgumentException("a chunk of " + chunkRows + " x " + chunkCols + " does not fit the "
                    + BitPacking.INDEX_BITS + "-bit indices (at most " + MAX_CHUNK + " values, each side at least 1)");
        }
        if (topK < 1 || topK > chunkRows * chunkCols) {
            throw new IllegalArgumentException("top-k must be 1.." + chunkRows * chunkCols + ", got " + topK);
        }
        if (valueBits != 1 && valueBits != 2 && valueBits != 4 && valueBits != 8) {
            throw new IllegalArgumentException("value bits must be 1, 2, 4 or 8, got " + valueBits);
        }
        if (rangeSigmas < 1) {
            throw new IllegalArgumentException("the quantization range must be at least 1 sigma, got " + rangeSigmas);
        }
    }

    /** Quantization levels: the length of each tensor's lookup table. */
    public int levels() {
        return 1 << valueBits;
    }
}
