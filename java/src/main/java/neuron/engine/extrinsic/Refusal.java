package neuron.engine.extrinsic;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/**
 * Why a node refused an extrinsic at submission (JSON-RPC error 1010, "Invalid Transaction"), read from the error's
 * message and data as Substrate nodes ("Transaction has a bad signature") and chopsticks ({@code badProof}) word it.
 */
public enum Refusal {
    BAD_PROOF("bad proof: the signature does not match the payload (wrong key, or signed for another chain or era)"),
    STALE("stale: the nonce was already used"),
    FUTURE("future: the nonce is ahead of the account's"),
    PAYMENT("payment: the account cannot pay the fee"),
    ANCIENT_BIRTH_BLOCK("ancient birth block: the era's birth block is unknown to the runtime"),
    EXHAUSTS_RESOURCES("exhausts resources: it does not fit in a block"),
    /**
     * Not a reason the runtime names: it answers bad proof (or ancient birth block) when a mortal era has ended, as
     * it then checks the signature against a newer birth block; the client tells this case apart by the head.
     */
    ERA_EXPIRED("era expired: the chain is past the blocks it was signed for; sign it again"),
    OTHER("refused");

    static final int INVALID_TRANSACTION = 1010;

    private final String meaning;

    Refusal(String meaning) {
        this.meaning = meaning;
    }

    public String meaning() {
        return meaning;
    }

    /** The reason a JSON-RPC error names; {@link #OTHER} for any error that is not an invalid transaction it knows. */
    public static Refusal of(JsonNode error) {
        if (error.path("code").asInt() != INVALID_TRANSACTION) {
            return OTHER;
        }
        String text = (error.path("message").asText("") + " " + error.path("data").toString())
                .toLowerCase(Locale.ROOT).replace(" ", "");
        if (text.contains("badproof") || text.contains("badsignature")) {
            return BAD_PROOF;
        }
        if (text.contains("stale") || text.contains("outdated")) {
            return STALE;
        }
        if (text.contains("future")) {
            return FUTURE;
        }
        if (text.contains("payment") || text.contains("paysomefees")) {
            return PAYMENT;
        }
        if (text.contains("ancientbirthblock")) {
            return ANCIENT_BIRTH_BLOCK;
        }
        return text.contains("exhaust") ? EXHAUSTS_RESOURCES : OTHER;
    }
}
