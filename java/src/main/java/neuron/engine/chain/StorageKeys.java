package neuron.engine.chain;

import neuron.engine.chain.scale.Hashing;
import neuron.engine.chain.scale.ScaleWriter;
import neuron.engine.chain.scale.StorageHasher;

/** Storage keys of the items every FRAME chain has, the embedded one and a subtensor node alike. */
public final class StorageKeys {
    private static final byte[] SYSTEM_NUMBER = Hashing.storagePrefix("System", "Number");
    private static final byte[] SYSTEM_PARENT_HASH = Hashing.storagePrefix("System", "ParentHash");
    private static final byte[] TIMESTAMP_NOW = Hashing.storagePrefix("Timestamp", "Now");
    private static final byte[] SUBTENSOR_WEIGHTS = Hashing.storagePrefix("SubtensorModule", "Weights");
    private static final byte[] COMMITMENT_OF = Hashing.storagePrefix("Commitments", "CommitmentOf");

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

    /** {@code SubtensorModule.Weights(netuid, uid)}: both keys u16, Identity-hashed, as on a subtensor node. */
    public static byte[] weights(int netuid, int uid) {
        return Hashing.concat(SUBTENSOR_WEIGHTS, StorageHasher.IDENTITY.hash(u16(netuid)), StorageHasher.IDENTITY.hash(u16(uid)));
    }

    /**
     * {@code Commitments.CommitmentOf(netuid, uid)}: netuid Identity, the neuron Twox64Concat (a subtensor node keys
     * it by the neuron's account; this chain has uids, no accounts).
     */
    public static byte[] commitmentOf(int netuid, int uid) {
        return Hashing.concat(COMMITMENT_OF, StorageHasher.IDENTITY.hash(u16(netuid)), StorageHasher.TWOX_64_CONCAT.hash(u16(uid)));
    }

    private static byte[] u16(int value) {
        return new ScaleWriter().u16(value).toByteArray();
    }
}
