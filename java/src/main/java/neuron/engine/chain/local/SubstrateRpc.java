package neuron.engine.chain.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import neuron.engine.chain.Block;
import neuron.engine.chain.Header;
import neuron.engine.chain.SubstrateJson;
import neuron.engine.chain.local.rpc.RpcCall;
import neuron.engine.chain.local.rpc.RpcException;
import neuron.engine.chain.local.rpc.RpcMethod;
import neuron.engine.chain.local.rpc.RpcTable;
import neuron.engine.chain.local.rpc.Subscriptions;
import neuron.engine.chain.scale.ScaleReader;
import neuron.engine.chain.scale.ScaleWriter;
import neuron.engine.network.Hash32;

/**
 * The Substrate node's JSON-RPC methods over the {@link LocalChain}, with Substrate's names, aliases, notification
 * names and answers: what polkadot.js asks for at start-up (runtime version, chain name, properties, methods,
 * metadata), blocks and headers, finality, storage by key, and subscriptions to new and finalized heads, the runtime
 * version and storage.
 */
final class SubstrateRpc {
    static final String CHAIN_NAME = "Neuron Local";
    /** Hashes of recently served blocks, for lookups by hash: the hash alone does not give the number. */
    private static final int KNOWN_HASHES = 100_000;
    /** The most keys one storage query or subscription may name, and one page of state_getKeysPaged may hold. */
    private static final int MAX_KEYS = 1000;
    private static final Pattern HEX_NUMBER = Pattern.compile("0x[0-9a-fA-F]{1,64}");
    private static final HexFormat HEX = HexFormat.of();

    private final LocalChain chain;
    private final LocalRuntime runtime;
    private final RpcTable table;
    private final Subscriptions newHeads;
    private final Subscriptions allHeads;
    private final Subscriptions finalizedHeads;
    private final Subscriptions runtimeVersions;
    private final Subscriptions storage;
    private final Map<Hash32, Long> known = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Hash32, Long> eldest) {
            return size() > KNOWN_HASHES;
        }
    };
    private long finalizedAnnounced;

    SubstrateRpc(LocalChain chain, RpcTable table) {
        this.chain = chain;
        this.runtime = chain.runtime();
        this.table = table;
        this.newHeads = table.topic(SubstrateJson.NEW_HEAD);
        this.allHeads = table.topic("chain_allHead");
        this.finalizedHeads = table.topic(SubstrateJson.FINALIZED_HEAD);
        this.runtimeVersions = table.topic("state_runtimeVersion");
        this.storage = table.topic("state_storage");
        this.finalizedAnnounced = chain.finalizedHead();

        register(this::getBlockHash, SubstrateJson.GET_BLOCK_HASH, "chain_getHead");
        register(this::getHeader, SubstrateJson.GET_HEADER);
        register(this::getBlock, "chain_getBlock");
        register(call -> TextNode.valueOf(hashAt(chain.finalizedHead()).toHex()), "chain_getFinalizedHead",
                "chain_getFinalisedHead");
        subscription(newHeads, this::firstHead, SubstrateJson.SUBSCRIBE_NEW_HEADS, "chain_subscribeNewHead",
                "subscribe_newHead");
        unsubscription(newHeads, "chain_unsubscribeNewHeads", "chain_unsubscribeNewHead", "unsubscribe_newHead");
        subscription(allHeads, this::firstHead, "chain_subscribeAllHeads");
        unsubscription(allHeads, "chain_unsubscribeAllHeads");
        subscription(finalizedHeads, (call, id) -> finalizedHeads.send(call.session(), id,
                chain.header(chain.finalizedHead()).toJson()), SubstrateJson.SUBSCRIBE_FINALIZED_HEADS,
                "chain_subscribeFinalisedHeads");
        unsubscription(finalizedHeads, "chain_unsubscribeFinalizedHeads", "chain_unsubscribeFinalisedHeads");

        register(call -> runtimeVersion(), "state_getRuntimeVersion", "chain_getRuntimeVersion");
        subscription(runtimeVersions, (call, id) -> runtimeVersions.send(call.session(), id, runtimeVersion()),
                "state_subscribeRuntimeVersion", "chain_subscribeRuntimeVersion");
        unsubscription(runtimeVersions, "state_unsubscribeRuntimeVersion", "chain_unsubscribeRuntimeVersion");
        register(call -> hex(runtime.metadata()), "state_getMetadata");
        register(this::stateCall, "state_call", "state_callAt");
        register(this::getStorage, "state_getStorage", "state_getStorageAt");
        register(this::queryStorageAt, "state_queryStorageAt");
        register(this::getKeysPaged, "state_getKeysPaged", "state_getKeysPagedAt");
        register(this::subscribeStorage, "state_subscribeStorage");
        unsubscription(storage, "state_unsubscribeStorage");

        register(call -> TextNode.valueOf(CHAIN_NAME), "system_chain");
        register(call -> TextNode.valueOf("Development"), "system_chainType");
        register(call -> TextNode.valueOf("neuron engine"), "system_name");
        register(call -> TextNode.valueOf(LocalRuntime.IMPL_VERSION), "system_version");
        register(call -> SubstrateJson.MAPPER.createObjectNode().put("ss58Format", LocalRuntime.SS58_PREFIX), "system_properties");
        register(call -> SubstrateJson.MAPPER.createObjectNode().put("peers", 0).put("isSyncing", false)
                .put("shouldHavePeers", false), "system_health");
        register(call -> {
            ObjectNode methods = SubstrateJson.MAPPER.createObjectNode().put("version", 1);
            ArrayNode names = methods.putArray("methods");
            table.names().forEach(names::add);
            return methods;
        }, "rpc_methods");
    }

    /** Tells the subscribers about the new best block {@code number} and the blocks it makes final. */
    void announce(long number) {
        Header header = chain.header(number);
        remember(header.block());
        ObjectNode json = header.toJson();
        newHeads.publish(json);
        allHeads.publish(json);
        for (long n = Math.max(finalizedAnnounced + 1, number - LocalChain.FINALITY_LAG); n <= number - LocalChain.FINALITY_LAG; n++) {
            finalizedHeads.publish(chain.header(n).toJson());
            finalizedAnnounced = n;
        }
        Map<byte[], byte[]> state = storageAt(number);
        Hash32 hash = header.hash();
        storage.forEach((session, id, watched) -> {
            ArrayNode changes = ((StorageWatch) watched).changes(state);
            if (!changes.isEmpty()) {
                storage.send(session, id, storageChange(hash, changes));
            }
        });
    }

    private void register(RpcMethod method, String... names) {
        for (String name : names) {
            table.register(name, method);
        }
    }

    /** A subscription method: answers the id, then {@code first} sends the current value, as a node does. */
    private void subscription(Subscriptions topic, FirstNotification first, String... names) {
        register(call -> {
            String id = topic.subscribe(call.session());
            call.afterAnswer(() -> first.send(call, id));
            return TextNode.valueOf(id);
        }, names);
    }

    private void unsubscription(Subscriptions topic, String... names) {
        register(call -> BooleanNode.valueOf(topic.unsubscribe(call.session(), call.param(0).asText(""))), names);
    }

    @FunctionalInterface
    private interface FirstNotification {
        void send(RpcCall call, String id);
    }

    private void firstHead(RpcCall call, String id) {
        Header head = chain.header(chain.head());
        remember(head.block());
        newHeads.send(call.session(), id, head.toJson());
    }

    private JsonNode getBlockHash(RpcCall call) throws RpcException {
        if (call.param(0).isArray()) { // Substrate takes a list of numbers too
            ArrayNode hashes = SubstrateJson.MAPPER.createArrayNode();
            for (JsonNode number : call.param(0)) {
                hashes.add(blockHashOrNull(blockNumber(number)));
            }
            return hashes;
        }
        return blockHashOrNull(call.has(0) ? blockNumber(call.param(0)) : chain.head());
    }

    private JsonNode blockHashOrNull(long number) {
        return number > chain.head() ? NullNode.getInstance() : TextNode.valueOf(hashAt(number).toHex());
    }

    private JsonNode getHeader(RpcCall call) throws RpcException {
        long number = call.has(0) ? numberOf(blockHash(call.param(0))) : chain.head();
        return number < 0 ? NullNode.getInstance() : chain.header(number).toJson();
    }

    private JsonNode getBlock(RpcCall call) throws RpcException {
        long number = call.has(0) ? numberOf(blockHash(call.param(0))) : chain.head();
        if (number < 0) {
            return NullNode.getInstance();
        }
        ObjectNode signed = SubstrateJson.MAPPER.createObjectNode();
        ObjectNode block = signed.putObject("block");
        block.set("header", chain.header(number).toJson());
        ArrayNode extrinsics = block.putArray("extrinsics");
        runtime.extrinsics(number).forEach(extrinsic -> extrinsics.add(hex(extrinsic)));
        signed.putNull("justifications");
        return signed;
    }

    private ObjectNode runtimeVersion() {
        ObjectNode version = SubstrateJson.MAPPER.createObjectNode();
        version.put("specName", LocalRuntime.SPEC_NAME).put("implName", LocalRuntime.IMPL_NAME).put("authoringVersion", 1)
                .put("specVersion", LocalRuntime.SPEC_VERSION).put("implVersion", 1);
        ArrayNode apis = version.putArray("apis");
        LocalRuntime.APIS.forEach(api -> apis.addArray().add(hex(LocalRuntime.apiId(api.getKey()))).add(api.getValue()));
        version.put("transactionVersion", LocalRuntime.TRANSACTION_VERSION).put("stateVersion", LocalRuntime.STATE_VERSION);
        return version;
    }

    /** The runtime APIs this runtime has (see {@link LocalRuntime#APIS}), with SCALE in and out as on a node. */
    private JsonNode stateCall(RpcCall call) throws RpcException {
        String name = call.param(0).asText("");
        byte[] input = call.has(1) ? bytes(call.param(1), "call data") : new byte[0];
        if (call.has(2)) {
            requireKnown(blockHash(call.param(2)));
        }
        ScaleReader in = new ScaleReader(input);
        try {
            byte[] output = switch (name) {
                case "Core_version" -> runtime.version();
                case "Metadata_metadata" -> new ScaleWriter().bytes(runtime.metadata()).toByteArray();
                case "Metadata_metadata_versions" -> new ScaleWriter().compact(1).u32(14).toByteArray();
                case "Metadata_metadata_at_version" -> {
                    long version = in.u32();
                    yield version == 14 ? new ScaleWriter().u8(1).bytes(runtime.metadata()).toByteArray() : new byte[] {0};
                }
                default -> throw new RpcException(RpcException.INVALID_PARAMS,
                        "Invalid params: this runtime has no API method " + abbreviate(name));
            };
            in.expectEnd();
            return hex(output);
        } catch (IllegalArgumentException e) {
            throw RpcException.invalidParams("call data for " + name + ": " + e.getMessage());
        }
    }

    private JsonNode getStorage(RpcCall call) throws RpcException {
        byte[] key = bytes(call.param(0), "storage key");
        long number = call.has(1) ? requireKnown(blockHash(call.param(1))) : chain.head();
        byte[] value = storageAt(number).get(key);
        return value == null ? NullNode.getInstance() : hex(value);
    }

    private JsonNode queryStorageAt(RpcCall call) throws RpcException {
        List<byte[]> keys = keys(call.param(0));
        long number = call.has(1) ? requireKnown(blockHash(call.param(1))) : chain.head();
        Map<byte[], byte[]> state = storageAt(number);
        ArrayNode changes = SubstrateJson.MAPPER.createArrayNode();
        for (byte[] key : keys) {
            byte[] value = state.get(key);
            changes.addArray().add(hex(key)).add(value == null ? NullNode.getInstance() : hex(value));
        }
        ArrayNode result = SubstrateJson.MAPPER.createArrayNode();
        result.add(storageChange(hashAt(number), changes));
        return result;
    }

    private JsonNode getKeysPaged(RpcCall call) throws RpcException {
        byte[] prefix = call.has(0) ? bytes(call.param(0), "key prefix") : new byte[0];
        if (!call.param(1).canConvertToInt() || call.param(1).asInt() < 0 || call.param(1).asInt() > MAX_KEYS) {
            throw RpcException.invalidParams("count must be 0.." + MAX_KEYS);
        }
        int count = call.param(1).asInt();
        byte[] start = call.has(2) ? bytes(call.param(2), "start key") : null;
        long number = call.has(3) ? requireKnown(blockHash(call.param(3))) : chain.head();
        ArrayNode keys = SubstrateJson.MAPPER.createArrayNode();
        for (byte[] key : storageAt(number).keySet()) {
            if (keys.size() < count && startsWith(key, prefix) && (start == null || Arrays.compareUnsigned(key, start) > 0)) {
                keys.add(hex(key));
            }
        }
        return keys;
    }

    private JsonNode subscribeStorage(RpcCall call) throws RpcException {
        StorageWatch watch = new StorageWatch(call.has(0) ? keys(call.param(0)) : null);
        String id = storage.subscribe(call.session(), watch);
        call.afterAnswer(() -> {
            long head = chain.head();
            storage.send(call.session(), id, storageChange(hashAt(head), watch.changes(storageAt(head))));
        });
        return TextNode.valueOf(id);
    }

    private static ObjectNode storageChange(Hash32 block, ArrayNode changes) {
        ObjectNode change = SubstrateJson.MAPPER.createObjectNode();
        change.put("block", block.toHex());
        change.set("changes", changes);
        return change;
    }

    /** The keys a storage subscription watches (null: every key) and the values it last reported. */
    private static final class StorageWatch {
        private final List<byte[]> keys;
        private final Map<String, String> reported = new HashMap<>();

        StorageWatch(List<byte[]> keys) {
            this.keys = keys;
        }

        /** The watched keys whose value differs from the one last reported, as [key, value or null] pairs. */
        synchronized ArrayNode changes(Map<byte[], byte[]> state) {
            ArrayNode changes = SubstrateJson.MAPPER.createArrayNode();
            for (byte[] key : keys == null ? new ArrayList<>(state.keySet()) : keys) {
                byte[] value = state.get(key);
                String hexKey = HEX.formatHex(key);
                String hexValue = value == null ? null : HEX.formatHex(value);
                if (!reported.containsKey(hexKey) || !Objects.equals(reported.get(hexKey), hexValue)) {
                    reported.put(hexKey, hexValue);
                    changes.addArray().add("0x" + hexKey).add(hexValue == null ? NullNode.getInstance()
                            : TextNode.valueOf("0x" + hexValue));
                }
            }
            return changes;
        }
    }

    private Map<byte[], byte[]> storageAt(long number) {
        return runtime.storage(number, number == 0 ? Hash32.ZERO : hashAt(number - 1));
    }

    private Hash32 hashAt(long number) {
        Block block = chain.block(number);
        remember(block);
        return block.hash();
    }

    /** The number of the canonical block with this hash, or -1 when there is none (never served, or replaced). */
    private long numberOf(Hash32 hash) {
        Long number;
        synchronized (known) {
            number = known.get(hash);
        }
        return number != null && number <= chain.head() && chain.block(number).hash().equals(hash) ? number : -1;
    }

    private long requireKnown(Hash32 hash) throws RpcException {
        long number = numberOf(hash);
        if (number < 0) {
            throw new RpcException(RpcException.INVALID_PARAMS, "Invalid params: unknown block " + hash);
        }
        return number;
    }

    private void remember(Block block) {
        synchronized (known) {
            known.put(block.hash(), block.number());
        }
    }

    /**
     * A block number param as Substrate takes it (a JSON integer or a 0x-prefixed hex string) within the range of
     * its block numbers (u32); anything else is invalid params, never wrapped or truncated.
     */
    static long blockNumber(JsonNode param) throws RpcException {
        BigInteger value;
        if (param.isIntegralNumber()) {
            value = param.bigIntegerValue();
        } else if (param.isTextual() && HEX_NUMBER.matcher(param.asText()).matches()) {
            value = new BigInteger(param.asText().substring(2), 16);
        } else {
            throw RpcException.invalidParams("a block number is an integer or a 0x-prefixed hex string");
        }
        if (value.signum() < 0 || value.bitLength() > Integer.SIZE) {
            throw RpcException.invalidParams(value + " is not a block number (0.." + Header.MAX_BLOCK_NUMBER + ")");
        }
        return value.longValue();
    }

    private static Hash32 blockHash(JsonNode param) throws RpcException {
        try {
            return Hash32.parseHex(param.asText(""));
        } catch (IllegalArgumentException e) {
            throw RpcException.invalidParams("a block hash is 0x followed by 64 hex digits");
        }
    }

    private static List<byte[]> keys(JsonNode param) throws RpcException {
        if (!param.isArray() || param.size() > MAX_KEYS) {
            throw RpcException.invalidParams("storage keys are a list of at most " + MAX_KEYS + " hex strings");
        }
        List<byte[]> keys = new ArrayList<>(param.size());
        for (JsonNode key : param) {
            keys.add(bytes(key, "storage key"));
        }
        return keys;
    }

    private static byte[] bytes(JsonNode param, String what) throws RpcException {
        try {
            return Header.hexBytes(param);
        } catch (IllegalArgumentException e) {
            throw RpcException.invalidParams(what + " must be 0x-prefixed hex bytes");
        }
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    private static TextNode hex(byte[] bytes) {
        return TextNode.valueOf("0x" + HEX.formatHex(bytes));
    }

    private static String abbreviate(String text) {
        return text.length() <= 64 ? text : text.substring(0, 64) + "…";
    }
}
