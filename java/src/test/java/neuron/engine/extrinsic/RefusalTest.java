package neuron.engine.extrinsic;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** The reasons of JSON-RPC error 1010 as a Substrate node (message and data) and chopsticks (message) word them. */
class RefusalTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void substrateNodesWordings() throws Exception {
        assertEquals(Refusal.BAD_PROOF, of("Invalid Transaction", "Transaction has a bad signature"));
        assertEquals(Refusal.STALE, of("Invalid Transaction", "Transaction is outdated"));
        assertEquals(Refusal.FUTURE, of("Invalid Transaction", "Transaction will be valid in the future"));
        assertEquals(Refusal.PAYMENT, of("Invalid Transaction",
                "Inability to pay some fees (e.g. account balance too low)"));
        assertEquals(Refusal.ANCIENT_BIRTH_BLOCK, of("Invalid Transaction", "Transaction has an ancient birth block"));
        assertEquals(Refusal.EXHAUSTS_RESOURCES, of("Invalid Transaction", "Transaction would exhaust the block limits"));
        assertEquals(Refusal.OTHER, of("Invalid Transaction", "Custom error: 7"));
    }

    @Test
    void chopsticksWordings() throws Exception {
        assertEquals(Refusal.BAD_PROOF, of("{\"invalid\":{\"badProof\":null}}", null));
        assertEquals(Refusal.STALE, of("{\"invalid\":{\"stale\":null}}", null));
        assertEquals(Refusal.ANCIENT_BIRTH_BLOCK, of("{\"invalid\":{\"ancientBirthBlock\":null}}", null));
    }

    @Test
    void otherErrorsAreNotInvalidTransactions() throws Exception {
        assertEquals(Refusal.OTHER, Refusal.of(JSON.readTree("{\"code\":1012,\"message\":\"Transaction is temporarily "
                + "banned\"}")));
    }

    private static Refusal of(String message, String data) throws Exception {
        var error = JSON.createObjectNode().put("code", 1010).put("message", message);
        if (data != null) {
            error.put("data", data);
        }
        return Refusal.of(error);
    }
}
