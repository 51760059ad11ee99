package neuron.engine.staging;

/**
 * The documents of the staging queue. A snapshot is {@code OPEN? BEGIN CHUNK* COMMIT} inside one cycle;
 * only a snapshot whose COMMIT was written is ever persisted.
 */
enum DocType {
    /** Opens the cycle of the next snapshot early, so its pages can be populated off the loop's thread. */
    OPEN,
    /** seq, step, storage sizes, the caller's metadata. */
    BEGIN,
    /** seq, a segment count, then per segment: storage index, offset in the storage, length, the bytes. */
    CHUNK,
    /** seq, total payload bytes. */
    COMMIT;

    private static final DocType[] VALUES = values();

    static DocType of(int code) {
        if (code < 0 || code >= VALUES.length) {
            throw new IllegalStateException("unknown staging document type " + code);
        }
        return VALUES[code];
    }
}
