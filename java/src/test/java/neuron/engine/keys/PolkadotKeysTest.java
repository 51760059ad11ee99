package neuron.engine.keys;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import neuron.engine.testing.NodeScripts;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine's hotkeys against polkadot.js ({@code @polkadot/keyring}, {@code @polkadot/util-crypto}): the same
 * public keys and SS58 addresses from mnemonics, seeds and derivation paths, and each side's signatures verified
 * by the other, tampered ones refused by both.
 */
@Slow
class PolkadotKeysTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HexFormat HEX = HexFormat.of();
    private static final long SEED = Long.getLong("neuron.test.seed", 20260524L);
    private static List<String> uris;

    @BeforeAll
    static void uris() {
        System.out.println("PolkadotKeysTest seed " + SEED + " (set with -Dneuron.test.seed)");
        Random random = new Random(SEED);
        String twelve = mnemonic(random, 16);
        String fifteen = mnemonic(random, 20);
        String twentyFour = mnemonic(random, 32);
        String eighteen = mnemonic(random, 24);
        String twentyOne = mnemonic(random, 28);
        byte[] seed = new byte[32];
        random.nextBytes(seed);
        uris = List.of("//Alice", "//Bob", "//Alice//stash", "//0", "//18446744073709551615",
                SecretUri.DEV_PHRASE, twelve, fifteen + "//hotkey", eighteen, twentyOne + "//1",
                twentyFour + "//a//b//c",
                twelve + "//a junction longer than thirty-two bytes, hashed", twelve + "///a password",
                twelve + "//miner///a password", "0x" + HEX.formatHex(seed), "0x" + HEX.formatHex(seed) + "//validator");
    }

    private static String mnemonic(Random random, int bytes) {
        byte[] entropy = new byte[bytes];
        random.nextBytes(entropy);
        return Mnemonic.fromEntropy(entropy);
    }

    private static JsonNode ask(ArrayNode requests) throws Exception {
        NodeScripts.assumeInstalled();
        return JSON.readTree(NodeScripts.run(Duration.ofMinutes(2), JSON.writeValueAsString(requests), "keys.mjs"));
    }

    private static String name(KeyType type) {
        return type.name().toLowerCase(java.util.Locale.ROOT);
    }

    private static List<String> urisFor(KeyType type) {
        List<String> all = new ArrayList<>(uris);
        if (type == KeyType.SR25519) {
            all.add("//Alice/soft");
            all.add("//Alice//stash/1/2");
            all.add(SecretUri.DEV_PHRASE + "/soft//hard");
        }
        return all;
    }

    @Test
    void sameKeysAndAddressesAsPolkadotJs() throws Exception {
        for (KeyType type : KeyType.values()) {
            List<String> all = urisFor(type);
            ArrayNode requests = JSON.createArrayNode();
            for (String uri : all) {
                requests.addObject().put("op", "pair").put("type", name(type)).put("uri", uri);
            }
            JsonNode answers = ask(requests);
            for (int i = 0; i < all.size(); i++) {
                KeyPair engine = SecretUri.keyPair(all.get(i), type);
                String what = type + " key #" + i;
                assertEquals(answers.get(i).get("publicKey").asText(), "0x" + HEX.formatHex(engine.publicKey()), what);
                assertEquals(answers.get(i).get("address").asText(), Ss58.encode(engine.publicKey()), what);
            }
        }
    }

    @Test
    void polkadotJsVerifiesTheEnginesSignatures() throws Exception {
        Random random = new Random(SEED + 1);
        for (KeyType type : KeyType.values()) {
            ArrayNode requests = JSON.createArrayNode();
            List<Boolean> expected = new ArrayList<>();
            for (String uri : uris) {
                KeyPair key = SecretUri.keyPair(uri, type);
                byte[] message = new byte[1 + random.nextInt(300)];
                random.nextBytes(message);
                byte[] signature = key.sign(message);
                verify(requests, type, key.publicKey(), message, signature);
                expected.add(true);
                byte[] tamperedMessage = message.clone();
                tamperedMessage[random.nextInt(message.length)] ^= 1;
                verify(requests, type, key.publicKey(), tamperedMessage, signature);
                expected.add(false);
                byte[] tamperedSignature = signature.clone();
                tamperedSignature[random.nextInt(32)] ^= 4;
                verify(requests, type, key.publicKey(), message, tamperedSignature);
                expected.add(false);
            }
            JsonNode answers = ask(requests);
            for (int i = 0; i < expected.size(); i++) {
                assertEquals(expected.get(i), answers.get(i).get("valid").asBoolean(),
                        type + " check #" + i + " (every third is the genuine signature)");
            }
        }
    }

    @Test
    void theEngineVerifiesPolkadotJsSignatures() throws Exception {
        byte[] message = "weights for window 12".getBytes(StandardCharsets.UTF_8);
        for (KeyType type : KeyType.values()) {
            ArrayNode requests = JSON.createArrayNode();
            for (String uri : uris) {
                requests.addObject().put("op", "sign").put("type", name(type)).put("uri", uri)
                        .put("message", "0x" + HEX.formatHex(message));
            }
            JsonNode answers = ask(requests);
            for (int i = 0; i < uris.size(); i++) {
                byte[] publicKey = HEX.parseHex(answers.get(i).get("publicKey").asText().substring(2));
                byte[] signature = HEX.parseHex(answers.get(i).get("signature").asText().substring(2));
                String what = type + " signature #" + i;
                assertTrue(verify(type, publicKey, message, signature), what);
                byte[] tamperedMessage = message.clone();
                tamperedMessage[i % message.length] ^= 1;
                assertFalse(verify(type, publicKey, tamperedMessage, signature), what + " of another message");
                byte[] tamperedSignature = signature.clone();
                tamperedSignature[40] ^= 1;
                assertFalse(verify(type, publicKey, message, tamperedSignature), what + " tampered");
            }
        }
    }

    private static boolean verify(KeyType type, byte[] publicKey, byte[] message, byte[] signature) {
        return type == KeyType.SR25519 ? Sr25519KeyPair.verify(publicKey, message, signature)
                : Ed25519KeyPair.verify(publicKey, message, signature);
    }

    private static void verify(ArrayNode requests, KeyType type, byte[] publicKey, byte[] message, byte[] signature) {
        ObjectNode request = requests.addObject();
        request.put("op", "verify").put("type", name(type)).put("publicKey", "0x" + HEX.formatHex(publicKey))
                .put("message", "0x" + HEX.formatHex(message)).put("signature", "0x" + HEX.formatHex(signature));
    }
}
