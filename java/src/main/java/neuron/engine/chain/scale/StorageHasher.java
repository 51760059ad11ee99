package neuron.engine.chain.scale;

/** How a storage map hashes its keys, in the order (and so with the indexes) that metadata V14 uses. */
public enum StorageHasher {
    BLAKE2_128,
    BLAKE2_256,
    BLAKE2_128_CONCAT,
    TWOX_128,
    TWOX_256,
    TWOX_64_CONCAT,
    IDENTITY;

    /** The key's part of a storage key: its hash, followed by the key itself for the concat hashers. */
    public byte[] hash(byte[] key) {
        return switch (this) {
            case BLAKE2_128 -> Hashing.blake2b128(key);
            case BLAKE2_256 -> Hashing.blake2b256(key);
            case BLAKE2_128_CONCAT -> Hashing.concat(Hashing.blake2b128(key), key);
            case TWOX_128 -> Hashing.twox128(key);
            case TWOX_256 -> throw new UnsupportedOperationException("no storage item of this chain uses Twox256");
            case TWOX_64_CONCAT -> Hashing.concat(Hashing.twox64(key), key);
            case IDENTITY -> key.clone();
        };
    }
}
