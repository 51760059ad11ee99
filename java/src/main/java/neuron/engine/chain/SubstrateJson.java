package neuron.engine.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Substrate JSON-RPC 2.0 as a subtensor node speaks it: the names and shapes {@code SubstrateRpc} and {@link WsChainClient} share. */
public final class SubstrateJson {
    public static final ObjectMapper MAPPER = new ObjectMapper();
    public static final String SUBSCRIBE_NEW_HEADS = "chain_subscribeNewHeads";
    public static final String SUBSCRIBE_FINALIZED_HEADS = "chain_subscribeFinalizedHeads";
    public static final String NEW_HEAD = "chain_newHead";
    public static final String FINALIZED_HEAD = "chain_finalizedHead";
    public static final String GET_HEADER = "chain_getHeader";
    public static final String GET_BLOCK_HASH = "chain_getBlockHash";

    private SubstrateJson() {
    }

    public static String request(long id, String method, Object... params) {
        ObjectNode msg = envelope();
        msg.put("id", id);
        msg.put("method", method);
        ArrayNode array = msg.putArray("params");
        for (Object param : params) {
            array.addPOJO(param);
        }
        return msg.toString();
    }

    /** A block number as a hex string ("0x1a", how headers carry it) or a plain JSON number. */
    public static long number(JsonNode node) {
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
