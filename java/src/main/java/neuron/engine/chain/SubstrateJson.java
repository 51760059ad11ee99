package neuron.engine.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import neuron.engine.chain.rpc.RpcTable;

/** Substrate JSON-RPC 2.0 as a subtensor node speaks it: the names and shapes {@link SubstrateRpc} and {@link WsChainClient} share. */
final class SubstrateJson {
    static final ObjectMapper MAPPER = RpcTable.MAPPER;
    static final String SUBSCRIBE_NEW_HEADS = "chain_subscribeNewHeads";
    static final String SUBSCRIBE_FINALIZED_HEADS = "chain_subscribeFinalizedHeads";
    static final String NEW_HEAD = "chain_newHead";
    static final String FINALIZED_HEAD = "chain_finalizedHead";
    static final String GET_HEADER = "chain_getHeader";
    static final String GET_BLOCK_HASH = "chain_getBlockHash";

    private SubstrateJson() {
    }

    static String request(long id, String method, Object... params) {
        ObjectNode msg = envelope();
        msg.put("id", id);
        msg.put("method", method);
        ArrayNode array = msg.putArray("params");
        for (Object param : params) {
            array.addPOJO(param);
        }
        return msg.toString();
    }

    /** A header as a node serves it; the block's own hash is not part of it, as on a real node. */
    static ObjectNode header(Block block) {
        ObjectNode header = MAPPER.createObjectNode();
        header.put("parentHash", block.parentHash().toHex());
        header.put("number", "0x" + Long.toHexString(block.number()));
        header.put("stateRoot", Hash32.ZERO.toHex());
        header.put("extrinsicsRoot", Hash32.ZERO.toHex());
        header.putObject("digest").putArray("logs");
        return header;
    }

    /** The block a header describes, given the hash it was fetched by; IllegalArgumentException when malformed. */
    static Block block(Hash32 hash, JsonNode header) {
        return new Block(number(header.path("number")), hash, Hash32.parseHex(header.path("parentHash").asText(null)));
    }

    /** A block number as a hex string ("0x1a", how headers carry it) or a plain JSON number. */
    static long number(JsonNode node) {
        if (node.isIntegralNumber()) {
            return node.asLong();
        }
        String text = node.asText("");
        if (!text.startsWith("0x") || text.length() < 3) {
            throw new IllegalArgumentException("not a block number: " + node);
        }
        return Long.parseUnsignedLong(text.substring(2), 16);
    }

    private static ObjectNode envelope() {
        return MAPPER.createObjectNode().put("jsonrpc", "2.0");
    }
}
