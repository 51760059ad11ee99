package neuron.engine.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import neuron.engine.network.ChainWeights;
import neuron.engine.network.Commitment;
import neuron.engine.network.Hash32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The window protocol's JSON-RPC methods, the one codec {@code WindowRpcHandler} (server) and {@link WsChainClient}
 * (client) share:
 * <pre>
 * neuron_commit      [{"kind": "update"|"aggregate", "uid": u16, "window": n, "hash": "0x…"}]   → null
 * neuron_commitments [number]            → {"number", "hash", "commitments": [commitment…]}, null if not produced
 * neuron_setWeights  [validator, [[uid, u16]…]]  (the values sum to 65535)                   → null
 * neuron_weights     [validator]         → {"validator", "block", "weights": [[uid, u16]…]}, null if never set
 * </pre>
 * Decoding a request is strict (a value out of range is an error answer); decoding what a node sent is lenient
 * where that loses nothing else: a commitment that does not parse is skipped with a log line, never fatal.
 */
public final class WindowRpc {
    public static final String COMMIT = "neuron_commit";
    public static final String COMMITMENTS = "neuron_commitments";
    public static final String SET_WEIGHTS = "neuron_setWeights";
    public static final String WEIGHTS = "neuron_weights";
    private static final Logger log = LoggerFactory.getLogger(WindowRpc.class);

    private WindowRpc() {
    }

    public static ObjectNode commitment(Commitment c) {
        return SubstrateJson.MAPPER.createObjectNode().put("kind", c.kind().wireName()).put("uid", c.uid())
                .put("window", c.window()).put("hash", c.hash().toHex());
    }

    /** IllegalArgumentException, saying what is wrong, for anything but a well-formed commitment. */
    public static Commitment commitment(JsonNode node) {
        if (!node.isObject()) {
            throw new IllegalArgumentException("a commitment is an object {kind, uid, window, hash}");
        }
        return new Commitment(Commitment.Kind.ofWireName(node.path("kind").asText("")),
                (int) integer(node.path("uid"), "uid", Commitment.MAX_UID), integer(node.path("window"), "window",
                Long.MAX_VALUE), Hash32.parseHex(node.path("hash").isTextual() ? node.path("hash").asText() : null));
    }

    public static ObjectNode blockCommitments(Block block) {
        ObjectNode out = SubstrateJson.MAPPER.createObjectNode().put("number", block.number())
                .put("hash", block.hash().toHex());
        ArrayNode list = out.putArray("commitments");
        block.commitments().forEach(c -> list.add(commitment(c)));
        return out;
    }

    /**
     * The commitments a node says block {@code number} with hash {@code hash} includes. An answer for another
     * block (the chain reorganised between two calls) is an IllegalArgumentException; an entry that does not
     * parse is skipped with a log line.
     */
    public static List<Commitment> commitmentsOf(JsonNode answer, long number, Hash32 hash) {
        if (!answer.isObject() || answer.path("number").asLong(-1) != number
                || !hash.toHex().equals(answer.path("hash").asText())) {
            throw new IllegalArgumentException("the commitments answered are not those of block " + number + " " + hash);
        }
        List<Commitment> out = new ArrayList<>();
        for (JsonNode entry : answer.path("commitments")) {
            try {
                out.add(commitment(entry));
            } catch (IllegalArgumentException e) {
                log.warn("block {}: ignoring a commitment that does not parse ({}): {}", number, e.getMessage(),
                        abbreviate(entry.toString()));
            }
        }
        return out;
    }

    public static ArrayNode weightValues(SortedMap<Integer, Integer> values) {
        ArrayNode list = SubstrateJson.MAPPER.createArrayNode();
        values.forEach((uid, value) -> list.addArray().add(uid).add(value));
        return list;
    }

    /** [[uid, value]…] as the chain takes it; IllegalArgumentException for duplicates or values out of range. */
    public static SortedMap<Integer, Integer> weightValues(JsonNode node) {
        if (!node.isArray()) {
            throw new IllegalArgumentException("weights are a list of [uid, value] pairs");
        }
        SortedMap<Integer, Integer> values = new TreeMap<>();
        for (JsonNode pair : node) {
            if (!pair.isArray() || pair.size() != 2) {
                throw new IllegalArgumentException("a weight is a pair [uid, value]");
            }
            int uid = (int) integer(pair.get(0), "uid", Commitment.MAX_UID);
            if (values.put(uid, (int) integer(pair.get(1), "weight", ChainWeights.TOTAL)) != null) {
                throw new IllegalArgumentException("uid " + uid + " has two weights");
            }
        }
        return values;
    }

    public static ObjectNode weights(ChainWeights weights) {
        ObjectNode out = SubstrateJson.MAPPER.createObjectNode().put("validator", weights.validatorUid())
                .put("block", weights.block());
        out.set("weights", weightValues(weights.values()));
        return out;
    }

    public static ChainWeights weights(JsonNode node) {
        return new ChainWeights((int) integer(node.path("validator"), "validator", Commitment.MAX_UID),
                integer(node.path("block"), "block", Long.MAX_VALUE), weightValues(node.path("weights")));
    }

    /** A JSON integer in {@code 0..max}; IllegalArgumentException naming {@code what} otherwise. */
    public static long integer(JsonNode node, String what, long max) {
        if (node == null || !node.isIntegralNumber() || !node.canConvertToLong() || node.asLong() < 0
                || node.asLong() > max) {
            throw new IllegalArgumentException(what + " must be an integer 0.." + max + ", got "
                    + (node == null || node.isMissingNode() ? "nothing" : abbreviate(node.toString())));
        }
        return node.asLong();
    }

    private static String abbreviate(String text) {
        return text.length() <= 100 ? text : text.substring(0, 100) + "…";
    }
}
