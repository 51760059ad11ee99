package neuron.engine.chain.local;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import neuron.engine.chain.Header;
import neuron.engine.chain.StorageKeys;
import neuron.engine.chain.scale.Hashing;
import neuron.engine.chain.scale.MetadataV14.Constant;
import neuron.engine.chain.scale.MetadataV14.Pallet;
import neuron.engine.chain.scale.MetadataV14.StorageEntry;
import neuron.engine.chain.scale.MetadataV14;
import neuron.engine.chain.scale.ScaleWriter;
import neuron.engine.chain.scale.StorageHasher;
import neuron.engine.chain.scale.TrieRoot;
import neuron.engine.chain.scale.TypeRegistry.Field;
import neuron.engine.chain.scale.TypeRegistry.Param;
import neuron.engine.chain.scale.TypeRegistry.Primitive;
import neuron.engine.chain.scale.TypeRegistry.Variant;
import neuron.engine.chain.scale.TypeRegistry;
import neuron.engine.network.ChainWeights;
import neuron.engine.network.Commitment;
import neuron.engine.network.Hash32;

/**
 * The runtime of the embedded chain, as a Substrate node would describe and run it: its pallets ({@code System}
 * with the block number and parent hash, {@code Timestamp} with the block's time, set by a {@code timestamp.set}
 * inherent in every block), Bittensor's {@code SubtensorModule.Weights} and {@code Commitments.CommitmentOf} for
 * the window protocol (what {@link ChainState} holds as of the block), the storage after each block, the block's
 * extrinsics, its version and its metadata V14. Blocks are built from these exactly as a node builds them: the state root over the storage, the extrinsics
 * root over the extrinsics, both Substrate trie roots.
 */
final class LocalRuntime {
    static final String SPEC_NAME = "neuron-local";
    static final String IMPL_NAME = "neuron-engine";
    static final String IMPL_VERSION = "0.1.0";
    static final int SPEC_VERSION = 1;
    static final int TRANSACTION_VERSION = 1;
    static final int STATE_VERSION = 1;
    /** Substrate builds the extrinsics root with trie version 0 unless a runtime's system version is 2 or more. */
    static final int EXTRINSICS_ROOT_VERSION = 0;
    /** The runtime APIs it answers through state_call: Core (version) and Metadata (metadata, by version). */
    static final List<Map.Entry<String, Integer>> APIS = List.of(Map.entry("Core", 4), Map.entry("Metadata", 2));
    static final int SYSTEM_INDEX = 0;
    static final int TIMESTAMP_INDEX = 1;
    /** The pallet indexes of the Bittensor chain. */
    static final int SUBTENSOR_INDEX = 7;
    static final int COMMITMENTS_INDEX = 18;
    /** The one subnet this chain runs: the first key of both window-protocol maps. */
    public static final int NETUID = 1;
    /** {@code pallet_commitments::Data}: {@code Raw0..Raw128} are indexes 1..129, {@code Sha256} is 131. */
    private static final int DATA_RAW_MAX = 128;
    private static final int DATA_SHA256 = 131;
    private static final int EXTRINSIC_VERSION = 4;
    static final int SS58_PREFIX = 42;
    /** Timestamp.Now of block 0 (2025-01-01T00:00:00Z); block n is n block times later, whatever the wall clock. */
    static final long GENESIS_TIME_MS = 1_735_689_600_000L;

    private final long blockTimeMs;
    private final ChainState state;
    private final byte[] metadata;

    LocalRuntime(long blockTimeMs, ChainState state) {
        this.blockTimeMs = blockTimeMs;
        this.state = state;
        this.metadata = buildMetadata();
    }

    /** {@code RuntimeMetadataPrefixed}, what state_getMetadata answers. */
    byte[] metadata() {
        return metadata.clone();
    }

    long timestamp(long number) {
        return GENESIS_TIME_MS + number * blockTimeMs;
    }

    /** The block's extrinsics, each as its full encoding (with its length prefix): the timestamp inherent. */
    List<byte[]> extrinsics(long number) {
        byte[] call = new ScaleWriter().u8(TIMESTAMP_INDEX).u8(0).compact(timestamp(number)).toByteArray();
        return List.of(unsignedExtrinsic(call));
    }

    /** The storage after the block: key to SCALE value. */
    Map<byte[], byte[]> storage(long number, Hash32 parentHash) {
        Map<byte[], byte[]> storage = new TreeMap<>(Arrays::compareUnsigned);
        storage.put(StorageKeys.systemNumber(), new ScaleWriter().u32(number).toByteArray());
        storage.put(StorageKeys.systemParentHash(), parentHash.toBytes());
        storage.put(StorageKeys.timestampNow(), new ScaleWriter().u64(timestamp(number)).toByteArray());
        state.commitmentsAsOf(number).forEach((uid, included) ->
                storage.put(StorageKeys.commitmentOf(NETUID, uid), registration(included)));
        state.weightsAsOf(number).forEach((uid, weights) ->
                storage.put(StorageKeys.weights(NETUID, uid), weightsValue(weights)));
        return storage;
    }

    /**
     * {@code Registration { deposit: u64, block: u32, info: CommitmentInfo { fields: Vec<Data> } }} with three
     * fields: {@code Raw} the kind ("update" or "aggregate"), {@code Raw} the window in decimal, {@code Sha256} the
     * file's hash.
     */
    static byte[] registration(ChainState.Included included) {
        Commitment commitment = included.commitment();
        ScaleWriter out = new ScaleWriter().u64(0).u32(included.block()).compact(3);
        rawData(out, commitment.kind().wireName().getBytes(StandardCharsets.US_ASCII));
        rawData(out, Long.toString(commitment.window()).getBytes(StandardCharsets.US_ASCII));
        return out.u8(DATA_SHA256).raw(commitment.hash().toBytes()).toByteArray();
    }

    private static void rawData(ScaleWriter out, byte[] raw) {
        out.u8(raw.length + 1).raw(raw);
    }

    /** {@code Vec<(u16, u16)>}: (miner uid, weight) in uid order. */
    static byte[] weightsValue(ChainWeights weights) {
        ScaleWriter out = new ScaleWriter().compact(weights.values().size());
        weights.values().forEach((uid, value) -> out.u16(uid).u16(value));
        return out.toByteArray();
    }

    /** The header of block {@code number} on top of {@code parentHash}; {@code digest} tells branches apart. */
    Header header(long number, Hash32 parentHash, List<byte[]> digest) {
        Hash32 stateRoot = Hash32.adopt(TrieRoot.of(storage(number, parentHash), STATE_VERSION));
        Hash32 extrinsicsRoot = Hash32.adopt(TrieRoot.ordered(extrinsics(number), EXTRINSICS_ROOT_VERSION));
        return new Header(parentHash, number, stateRoot, extrinsicsRoot, digest);
    }

    /** {@code sp_version::RuntimeVersion} in SCALE, what the Core_version runtime API returns. */
    byte[] version() {
        ScaleWriter out = new ScaleWriter().str(SPEC_NAME).str(IMPL_NAME).u32(1).u32(SPEC_VERSION).u32(1);
        out.compact(APIS.size());
        APIS.forEach(api -> out.raw(apiId(api.getKey())).u32(api.getValue()));
        return out.u32(TRANSACTION_VERSION).u8(STATE_VERSION).toByteArray();
    }

    static byte[] apiId(String api) {
        return Hashing.blake2b64(api.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] unsignedExtrinsic(byte[] call) {
        byte[] body = new ScaleWriter().u8(EXTRINSIC_VERSION).raw(call).toByteArray();
        return new ScaleWriter().bytes(body).toByteArray();
    }

    private static byte[] buildMetadata() {
        TypeRegistry types = new TypeRegistry();
        int u8 = types.primitive(Primitive.U8);
        int u16 = types.primitive(Primitive.U16);
        int u32 = types.primitive(Primitive.U32);
        int u64 = types.primitive(Primitive.U64);
        int bytes = types.sequence(u8);
        int bytes32 = types.array(32, u8);
        int h256 = types.composite(List.of("primitive_types", "H256"), List.of(), List.of(new Field(null, bytes32, "[u8; 32]")),
                List.of());
        int timestampCall = types.variant(List.of("pallet_timestamp", "pallet", "Call"), List.of(), List.of(
                new Variant("set", 0, List.of(new Field("now", types.compact(u64), "T::Moment")),
                        List.of("Sets the current time: an inherent in every block."))), List.of());
        int runtimeCall = types.variant(List.of("neuron_runtime", "RuntimeCall"), List.of(), List.of(
                new Variant("Timestamp", TIMESTAMP_INDEX, List.of(new Field(null, timestampCall, null)), List.of())), List.of());
        int extrinsic = extrinsicType(types, runtimeCall, bytes, bytes32, u8);
        int runtime = types.composite(List.of("neuron_runtime", "Runtime"), List.of(), List.of(), List.of());

        List<Pallet> pallets = new ArrayList<>();
        pallets.add(new Pallet("System", SYSTEM_INDEX, List.of(
                StorageEntry.plain("Number", u32, new byte[4], "The current block number."),
                StorageEntry.plain("ParentHash", h256, new byte[32], "The hash of the previous block.")), -1,
                List.of(new Constant("SS58Prefix", u16, new ScaleWriter().u16(SS58_PREFIX).toByteArray(),
                        "The address format of accounts (42: generic Substrate, as on Bittensor)."))));
        pallets.add(new Pallet("Timestamp", TIMESTAMP_INDEX, List.of(
                StorageEntry.plain("Now", u64, new byte[8], "The block's time, in milliseconds since the Unix epoch.")),
                timestampCall, List.of()));
        pallets.add(new Pallet("SubtensorModule", SUBTENSOR_INDEX, List.of(new StorageEntry("Weights", false,
                List.of(StorageHasher.IDENTITY, StorageHasher.IDENTITY), types.tuple(u16, u16),
                types.sequence(types.tuple(u16, u16)), new byte[1],
                List.of("The weights a validator (second key: its uid) set on a subnet: (miner uid, u16 weight)."))),
                -1, List.of()));
        pallets.add(new Pallet("Commitments", COMMITMENTS_INDEX, List.of(new StorageEntry("CommitmentOf", true,
                List.of(StorageHasher.IDENTITY, StorageHasher.TWOX_64_CONCAT), types.tuple(u16, u16),
                registrationType(types, u8, u32, u64), new byte[0],
                List.of("A neuron's (second key: its uid) newest commitment on a subnet: kind, window, SHA-256."))),
                -1, List.of()));
        return MetadataV14.encode(types, pallets, extrinsic, EXTRINSIC_VERSION, runtime);
    }

    /** {@code pallet_commitments::Registration<u64, MaxFields, u32>} and the types it is made of. */
    private static int registrationType(TypeRegistry types, int u8, int u32, int u64) {
        List<Variant> data = new ArrayList<>();
        data.add(new Variant("None", 0, List.of(), List.of()));
        for (int n = 0; n <= DATA_RAW_MAX; n++) {
            data.add(new Variant("Raw" + n, n + 1, List.of(new Field(null, types.array(n, u8), null)), List.of()));
        }
        int bytes32 = types.array(32, u8);
        String[] hashes = {"BlakeTwo256", "Sha256", "Keccak256", "ShaThree256"};
        for (int i = 0; i < hashes.length; i++) {
            data.add(new Variant(hashes[i], DATA_RAW_MAX + 2 + i, List.of(new Field(null, bytes32, null)), List.of()));
        }
        int dataType = types.variant(List.of("pallet_commitments", "types", "Data"), List.of(), data, List.of());
        int info = types.composite(List.of("pallet_commitments", "types", "CommitmentInfo"), List.of(),
                List.of(new Field("fields", types.sequence(dataType), "BoundedVec<Data, MaxFields>")), List.of());
        return types.composite(List.of("pallet_commitments", "types", "Registration"), List.of(), List.of(
                new Field("deposit", u64, "Balance"), new Field("block", u32, "BlockNumber"),
                new Field("info", info, "CommitmentInfo<MaxFields>")), List.of());
    }

    /** {@code UncheckedExtrinsic<MultiAddress<AccountId32, ()>, RuntimeCall, MultiSignature, ()>}, opaque bytes. */
    private static int extrinsicType(TypeRegistry types, int runtimeCall, int bytes, int bytes32, int u8) {
        int accountId = types.composite(List.of("sp_core", "crypto", "AccountId32"), List.of(),
                List.of(new Field(null, bytes32, "[u8; 32]")), List.of());
        int unit = types.tuple();
        int address = types.variant(List.of("sp_runtime", "multiaddress", "MultiAddress"),
                List.of(new Param("AccountId", accountId), new Param("AccountIndex", unit)), List.of(
                        new Variant("Id", 0, List.of(new Field(null, accountId, "AccountId")), List.of()),
                        new Variant("Index", 1, List.of(new Field(null, types.compact(unit), "AccountIndex")), List.of()),
                        new Variant("Raw", 2, List.of(new Field(null, bytes, "Vec<u8>")), List.of()),
                        new Variant("Address32", 3, List.of(new Field(null, bytes32, "[u8; 32]")), List.of()),
                        new Variant("Address20", 4, List.of(new Field(null, types.array(20, u8), "[u8; 20]")), List.of())),
                List.of());
        int signature64 = types.array(64, u8);
        int ed25519 = types.composite(List.of("sp_core", "ed25519", "Signature"), List.of(),
                List.of(new Field(null, signature64, "[u8; 64]")), List.of());
        int sr25519 = types.composite(List.of("sp_core", "sr25519", "Signature"), List.of(),
                List.of(new Field(null, signature64, "[u8; 64]")), List.of());
        int ecdsa = types.composite(List.of("sp_core", "ecdsa", "Signature"), List.of(),
                List.of(new Field(null, types.array(65, u8), "[u8; 65]")), List.of());
        int signature = types.variant(List.of("sp_runtime", "MultiSignature"), List.of(), List.of(
                new Variant("Ed25519", 0, List.of(new Field(null, ed25519, "ed25519::Signature")), List.of()),
                new Variant("Sr25519", 1, List.of(new Field(null, sr25519, "sr25519::Signature")), List.of()),
                new Variant("Ecdsa", 2, List.of(new Field(null, ecdsa, "ecdsa::Signature")), List.of())), List.of());
        return types.composite(List.of("sp_runtime", "generic", "unchecked_extrinsic", "UncheckedExtrinsic"),
                List.of(new Param("Address", address), new Param("Call", runtimeCall), new Param("Signature", signature),
                        new Param("Extra", unit)),
                List.of(new Field(null, bytes, null)), List.of());
    }
}
