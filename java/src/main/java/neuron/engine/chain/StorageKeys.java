package neuron.engine.chain;

import neuron.engine.chain.scale.Hashing;

/** Storage keys of the items every FRAME chain has, the embedded one and a subtensor node alike. */
public final class StorageKeys {
    private static final byte[] SYSTEM_NUMBER = Hashing.storagePrefix("System", "Number");
    private static final byte[] SYSTEM_PARENT_HASH = Hashing.storagePrefix("System", "ParentHash");
    private static final byte[] TIMESTAMP_NOW = Hashing.storagePrefix("Timestamp", "Now");

    private StorageKeys() {
    }

    /** {@code System.Number}: u32, the block number. */
    public static byte[] systemNumber() {
        return SYSTEM_NUMBER.clone();
    }

    /** {@code System.ParentHash}: the parent block's hash. */
    public static byte[] systemParentHash() {
        return SYSTEM_PARENT_HASH.clone();
    }

    /** {@code Timestamp.Now}: u64, the block's time in milliseconds since the Unix epoch. */
    public static byte[] timestampNow() {
        return TIMESTAMP_NOW.clone();
    }
}
