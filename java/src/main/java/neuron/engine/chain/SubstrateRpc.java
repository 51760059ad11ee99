package neuron.engine.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import neuron.engine.chain.rpc.RpcCall;
import neuron.engine.chain.rpc.RpcException;
import neuron.engine.chain.rpc.RpcTable;
import neuron.engine.chain.rpc.Subscriptions;

/** The Substrate JSON-RPC methods that {@link ChainServer} serves over its {@link LocalChain}. */
final class SubstrateRpc {
    /** Hashes of recently served blocks, for chain_getHeader(hash): the hash alone does not give the number. */
    private static final int KNOWN_HASHES = 100_000;
    /** Block numbers are u32, as on Substrate chains (subtensor's included). */
    static final long MAX_BLOCK_NUMBER = 0xFFFF_FFFFL;
    private static final Pattern HEX_NUMBER = Pattern.compile("0x[0-9a-fA-F]{1,64}");

    private final LocalChain chain;
    private final Subscriptions newHeads;
    private final Subscriptions finalizedHeads;
    private final Map<Hash32, Block> known = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Hash32, Block> eldest) {
            return size() > KNOWN_HASHES;
        }
    };

    SubstrateRpc(LocalChain chain, RpcTable table) {
        this.chain = chain;
        this.newHeads = table.topic(SubstrateJson.NEW_HEAD);
        this.finalizedHeads = table.topic(SubstrateJson.FINALIZED_HEAD);
        table.register(SubstrateJson.SUBSCRIBE_NEW_HEADS, call -> subscribe(call, newHeads));
        table.register(SubstrateJson.SUBSCRIBE_FINALIZED_HEADS, call -> subscribe(call, finalizedHeads));
        table.register(SubstrateJson.GET_BLOCK_HASH, this::getBlockHash);
        table.register(SubstrateJson.GET_HEADER, this::getHeader);
    }

    /** Tells every subscriber of new and finalized heads about {@code head} (every block is final here). */
    void announce(Block head) {
        remember(head);
        JsonNode header = SubstrateJson.header(head);
        newHeads.publish(header);
        finalizedHeads.publish(header);
    }

    private JsonNode subscribe(RpcCall call, Subscriptions topic) throws RpcException {
        String id = topic.subscribe(call.session());
        // like a node, start with the current head; later heads come from announce()
        call.afterAnswer(() -> {
            Block head = chain.block(chain.head());
            remember(head);
            topic.send(call.session(), id, SubstrateJson.header(head));
        });
        return TextNode.valueOf(id);
    }

    private JsonNode getBlockHash(RpcCall call) throws RpcException {
        long head = chain.head();
        long number = call.has(0) ? blockNumber(call.param(0)) : head;
        if (number > head) {
            return NullNode.getInstance();
        }
        Block block = chain.block(number);
        remember(block);
        return TextNode.valueOf(block.hash().toHex());
    }

    private JsonNode getHeader(RpcCall call) throws RpcException {
        Block block = call.has(0) ? lookUp(blockHash(call.param(0))) : chain.block(chain.head());
        return block == null ? NullNode.getInstance() : SubstrateJson.header(block);
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
            throw RpcException.invalidParams(value + " is not a block number (0.." + MAX_BLOCK_NUMBER + ")");
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

    private void remember(Block block) {
        synchronized (known) {
            known.put(block.hash(), block);
        }
    }

    private Block lookUp(Hash32 hash) {
        synchronized (known) {
            return known.get(hash);
        }
    }
}
