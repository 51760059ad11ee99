package neuron.engine.chain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import neuron.engine.network.Hash32;
import org.junit.jupiter.api.Test;

/** Headers decode, encode and hash exactly as a Substrate node's do. */
class HeaderTest {
    /** Block #1 of Rococo Asset Hub's runtime, built by chopsticks: its header as served, and the hash it reported. */
    static final String CHOPSTICKS_HEADER = "{\"parentHash\":\"0x4545454545454545454545454545454545454545454545454545454545454545\","
            + "\"number\":\"0x00000001\",\"stateRoot\":\"0x0000000000000000000000000000000000000000000000000000000000000000\","
            + "\"extrinsicsRoot\":\"0xbe8c77b3f1e5299014ea50abb775f71ecdac6159bf77eae84edc6c1429c991eb\","
            + "\"digest\":{\"logs\":[\"0x06617572612059efeb0800000000\"]}}";
    static final String CHOPSTICKS_HASH = "0x54dac0156bba4b4a6e4c3e5fb098caf4ea2211e63b02baadf0f097e0c34fd041";

    @Test
    void aRealRuntimesHeaderHashesToTheHashItsNodeReported() throws Exception {
        JsonNode json = SubstrateJson.MAPPER.readTree(CHOPSTICKS_HEADER);
        Header header = Header.fromJson(json);
        assertEquals(CHOPSTICKS_HASH, header.hash().toHex());
        assertEquals(1, header.number());
        assertEquals(json.get("digest"), header.toJson().get("digest"));
        assertEquals(Hash32.parseHex(CHOPSTICKS_HASH), Header.fromJson(header.toJson()).hash(), "JSON round trip");
    }

    @Test
    void malformedHeadersAreRefused() throws Exception {
        for (String bad : new String[] {
                CHOPSTICKS_HEADER.replace("\"0x00000001\"", "\"zz\""),
                CHOPSTICKS_HEADER.replace("\"0x00000001\"", "\"0x100000000\""), // above u32
                CHOPSTICKS_HEADER.replace("0x06617572612059efeb0800000000", "0x066"),
                CHOPSTICKS_HEADER.replace("\"parentHash\":\"0x45", "\"parentHash\":\"0x"),
                "{}"}) {
            JsonNode json = SubstrateJson.MAPPER.readTree(bad);
            assertThrows(IllegalArgumentException.class, () -> Header.fromJson(json), bad);
        }
    }
}
