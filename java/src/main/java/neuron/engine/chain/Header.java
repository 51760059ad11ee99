package neuron.engine.chain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import neuron.engine.chain.scale.Hashing;
import neuron.engine.chain.scale.ScaleWriter;
import neuron.engine.network.Hash32;

/**
 * A Substrate block header: parent hash, number, state root, extrinsics root and digest (each log an encoded
 * {@code DigestItem}). A block's hash is BLAKE2b-256 of the header's SCALE encoding, so a client can check every
 * header it is given against the hash it asked for.
 */
public record Header(Hash32 parentHash, long number, Hash32 stateRoot, Hash32 extrinsicsRoot, List<byte[]> digest) {
    /** Block numbers are u32, as on Substrate chains (subtensor's included). */
    public static final long MAX_BLOCK_NUMBER = 0xFFFF_FFFFL;
    private static final HexFormat HEX = HexFormat.of();

    public Header {
        if (number < 0 || number > MAX_BLOCK_NUMBER) {
            throw new IllegalArgumentException("a block number is 0.." + MAX_BLOCK_NUMBER + ", got " + number);
        }
        Objects.requireNonNull(parentHash, "parentHash");
        Objects.requireNonNull(stateRoot, "stateRoot");
        Objects.requireNonNull(extrinsicsRoot, "extrinsicsRoot");
        digest = digest.stream().map(byte[]::clone).toList();
    }

    /** A header as a node serves it in JSON; IllegalArgumentException when any field is missing or malformed. */
    public static Header fromJson(JsonNode json) {
        JsonNode logs = json.path("digest").path("logs");
        if (!logs.isArray()) {
            throw new IllegalArgumentException("a header without digest logs");
        }
        List<byte[]> digest = new ArrayList<>(logs.size());
        for (JsonNode log : logs) {
            digest.add(hexBytes(log));
        }
        return new Header(hash(json, "parentHash"), SubstrateJson.number(json.path("number")), hash(json, "stateRoot"),
                hash(json, "extrinsicsRoot"), digest);
    }

    public byte[] encode() {
        ScaleWriter out = new ScaleWriter().raw(parentHash.bytesView()).compact(number).raw(stateRoot.bytesView())
                .raw(extrinsicsRoot.bytesView()).compact(digest.size());
        digest.forEach(out::raw);
        return out.toByteArray();
    }

    public Hash32 hash() {
        return Hash32.adopt(Hashing.blake2b256(encode()));
    }

    /** The block this header is the header of, as the feed and the journal know it. */
    public Block block() {
        return new Block(number, hash(), parentHash);
    }

    public ObjectNode toJson() {
        ObjectNode json = SubstrateJson.MAPPER.createObjectNode();
        json.put("parentHash", parentHash.toHex());
        json.put("number", "0x" + Long.toHexString(number));
        json.put("stateRoot", stateRoot.toHex());
        json.put("extrinsicsRoot", extrinsicsRoot.toHex());
        ArrayNode logs = json.putObject("digest").putArray("logs");
        digest.forEach(log -> logs.add("0x" + HEX.formatHex(log)));
        return json;
    }

    @Override
    public String toString() {
        return "header #" + number + " (parent " + parentHash + ")";
    }

    private static Hash32 hash(JsonNode json, String field) {
        return Hash32.parseHex(json.path(field).asText(null));
    }

    /** "0x" and an even number of hex digits. */
    public static byte[] hexBytes(JsonNode node) {
        String text = node.asText("");
        if (!node.isTextual() || !text.startsWith("0x") || text.length() % 2 != 0) {
            throw new IllegalArgumentException("not 0x-prefixed hex bytes: " + abbreviate(node.toString()));
        }
        return HEX.parseHex(text, 2, text.length());
    }

    private static String abbreviate(String text) {
        return text.length() <= 80 ? text : text.substring(0, 80) + "…";
    }
}
