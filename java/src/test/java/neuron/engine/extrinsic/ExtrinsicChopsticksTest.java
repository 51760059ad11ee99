package neuron.engine.extrinsic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import neuron.engine.chain.Follow;
import neuron.engine.chain.WsChainClient;
import neuron.engine.chain.scale.Hashing;
import neuron.engine.keys.Ed25519KeyPair;
import neuron.engine.keys.KeyPair;
import neuron.engine.keys.KeyType;
import neuron.engine.keys.Sr25519KeyPair;
import neuron.engine.keys.Ss58;
import neuron.engine.testing.Chopsticks;
import neuron.engine.testing.NodeScripts;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's signed extrinsics against a real runtime: chopsticks runs Rococo Asset Hub's runtime offline and
 * makes a block when asked. The runtime includes the engine's {@code System.remark_with_event} from an ed25519 and
 * from an sr25519 account (its {@code System.Remarked} event read back through the metadata), refuses a wrong
 * signature, a reused nonce and an expired era, and the engine reports each as the runtime's reason. polkadot.js,
 * given the same key, nonce and era, builds the very same bytes.
 */
@Slow
class ExtrinsicChopsticksTest {
    private static final Duration PATIENCE = Duration.ofSeconds(120);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    private static Chopsticks chopsticks;
    private static WsChainClient chain;
    private static ExtrinsicClient client;

    @BeforeAll
    static void startTheRuntime() throws Exception {
        chopsticks = Chopsticks.start(dir);
        chain = WsChainClient.open(chopsticks.uri(), Follow.FINALIZED);
        client = ExtrinsicClient.connect(chain, chopsticks.uri().toString(), PATIENCE);
    }

    @AfterAll
    static void stopTheRuntime() throws Exception {
        if (chain != null) {
            chain.close();
        }
        if (chopsticks != null) {
            chopsticks.close();
        }
    }

    @Test
    void theRuntimeIncludesTheEnginesRemarkFromEitherKeyKind() throws Exception {
        List<String> extensions = client.metadata().extensions().stream()
                .map(RuntimeMetadata.TransactionExtension::identifier).toList();
        assertTrue(extensions.containsAll(List.of("CheckNonZeroSender", "CheckSpecVersion", "CheckTxVersion",
                "CheckGenesis", "CheckMortality", "CheckNonce", "CheckWeight", "ChargeAssetTxPayment")), extensions.toString());
        // this runtime predates Metadata_metadata_at_version: the client fell back to state_getMetadata's V14
        assertTrue(chain.request("state_call", PATIENCE, "Metadata_metadata_at_version", "0x0f000000").has("error"));
        assertEquals(14, client.metadata().version());
        for (KeyPair key : List.of(ed25519(1), Sr25519KeyPair.fromMiniSecret(seed(2)))) {
            fund(key);
            byte[] remark = ("signed by the engine's " + key.type() + " key").getBytes(StandardCharsets.UTF_8);
            SignedExtrinsic extrinsic = client.sign(key, 64, "System", "remark_with_event", remark);
            Submission submission = submitInNewBlock(extrinsic);
            assertEquals(Submission.Status.FINALIZED, submission.status(), submission.toString());
            Submission.Inclusion at = submission.inclusion();
            assertTrue(at.succeeded(), at.events().toString());
            ChainEvent remarked = at.events().stream().filter(e -> e.is("System", "Remarked")).findFirst()
                    .orElseThrow(() -> new AssertionError("no System.Remarked in " + at.events()));
            Map<?, ?> fields = (Map<?, ?>) remarked.fields();
            assertArrayEquals(key.publicKey(), (byte[]) fields.get("sender"), key.type() + " sender");
            assertArrayEquals(Hashing.blake2b256(remark), (byte[]) fields.get("hash"));
            JsonNode body = rpc("chain_getBlock", at.blockHashHex()).at("/block/extrinsics");
            assertEquals(extrinsic.hex(), body.get(at.index()).asText(), "the engine's bytes are in the block");
            assertEquals(1, client.context(key, 64).nonce(), "the account's nonce moved on");
        }
    }

    @Test
    void polkadotJsBuildsTheSameBytesForTheSameKeyNonceAndEra() throws Exception {
        byte[] seed = seed(3);
        KeyPair key = Ed25519KeyPair.fromSeed(seed);
        SigningContext context = client.context(key, 64).withNonce(5);
        byte[] remark = "byte for byte".getBytes(StandardCharsets.UTF_8);
        SignedExtrinsic engine = client.signer().sign(key, "System.remark_with_event",
                client.signer().call("System", "remark_with_event", remark), context);
        JsonNode polkadot = JSON.readTree(NodeScripts.run(PATIENCE, "", "sign-remark.mjs", chopsticks.uri().toString(),
                hex(seed), "5", "64", Long.toString(context.birthBlock()), hex(remark)));
        assertEquals(polkadot.get("hex").asText(), engine.hex(), "extensions " + polkadot.get("extensions"));
        assertEquals(polkadot.get("hash").asText(), engine.hashHex());

        // a payload over 256 bytes is signed as its hash: polkadot.js agrees there too
        byte[] longRemark = new byte[300];
        Arrays.fill(longRemark, (byte) 7);
        SignedExtrinsic longer = client.signer().sign(key, "System.remark_with_event",
                client.signer().call("System", "remark_with_event", longRemark), context);
        JsonNode polkadotLonger = JSON.readTree(NodeScripts.run(PATIENCE, "", "sign-remark.mjs",
                chopsticks.uri().toString(), hex(seed), "5", "64", Long.toString(context.birthBlock()), hex(longRemark)));
        assertEquals(polkadotLonger.get("hex").asText(), longer.hex());
    }

    @Test
    void theRuntimesRefusalsAreReportedWithItsReasons() throws Exception {
        KeyPair key = ed25519(4);
        fund(key);
        byte[] call = client.signer().call("System", "remark_with_event", new byte[] {1, 2, 3});

        // a signature by another key over the right payload
        KeyPair impostor = new WrongSigner(key, ed25519(5));
        Submission badProof = client.submit(client.signer().sign(impostor, "System.remark_with_event", call,
                client.context(key, 64)), true, PATIENCE);
        assertEquals(Submission.Status.REFUSED, badProof.status(), badProof.toString());
        assertEquals(Refusal.BAD_PROOF, badProof.refusal(), badProof.detail());
        assertNull(badProof.inclusion());

        // a nonce already used
        SigningContext first = client.context(key, 64);
        assertTrue(submitInNewBlock(client.signer().sign(key, "System.remark_with_event", call, first)).included());
        Submission stale = client.submit(client.signer().sign(key, "System.remark_with_event", call,
                client.context(key, 64).withNonce(first.nonce())), true, PATIENCE);
        assertEquals(Submission.Status.REFUSED, stale.status(), stale.toString());
        assertEquals(Refusal.STALE, stale.refusal(), stale.detail());

        // an era of 4 blocks that ended before the extrinsic was submitted
        SignedExtrinsic expiring = client.signer().sign(key, "System.remark_with_event", call, client.context(key, 4));
        assertEquals(4, expiring.era().period());
        rpc("dev_newBlock", Map.of("count", 5));
        Submission expired = client.submit(expiring, true, PATIENCE);
        assertEquals(Submission.Status.REFUSED, expired.status(), expired.toString());
        // the runtime checks the signature against a newer birth block and answers "bad proof"; the head says why
        assertEquals(Refusal.ERA_EXPIRED, expired.refusal(), expired.toString());
        assertTrue(expired.detail().contains("badProof"), expired.detail());
        assertTrue(expired.detail().contains("signed with an era from block " + expiring.birthBlock() + " to "
                + (expiring.birthBlock() + 4)), expired.detail());

        // and the engine goes on: the next extrinsic of the account is included
        assertTrue(submitInNewBlock(client.sign(key, 64, "System", "remark_with_event", new byte[] {4})).included());
    }

    /** Submits, waits until the extrinsic is in chopsticks' pool, makes a block, and returns how it ended. */
    private static Submission submitInNewBlock(SignedExtrinsic extrinsic) throws Exception {
        CompletableFuture<Submission> submitted = CompletableFuture.supplyAsync(() -> {
            try {
                return client.submit(extrinsic, true, PATIENCE);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!rpc("author_pendingExtrinsics").toString().contains(extrinsic.hex().substring(2))) {
            if (submitted.isDone()) {
                return submitted.get();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("extrinsic " + extrinsic.describe() + " never reached the pool");
            }
            Thread.sleep(50);
        }
        rpc("dev_newBlock", Map.of("count", 1));
        try {
            return submitted.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError(e.getCause());
        }
    }

    private static void fund(KeyPair key) throws Exception {
        String address = Ss58.encode(key.publicKey());
        rpc("dev_setStorage", Map.of("System", Map.of("Account", List.of(List.of(List.of(address),
                Map.of("providers", 1, "data", Map.of("free", "1000000000000000")))))));
    }

    private static JsonNode rpc(String method, Object... params) throws Exception {
        JsonNode answer = chain.request(method, PATIENCE, params);
        assertTrue(answer.has("result"), method + ": " + answer);
        return answer.get("result");
    }

    private static KeyPair ed25519(int n) {
        return Ed25519KeyPair.fromSeed(seed(n));
    }

    private static byte[] seed(int n) {
        byte[] seed = new byte[32];
        Arrays.fill(seed, (byte) n);
        return seed;
    }

    private static String hex(byte[] bytes) {
        return "0x" + HexFormat.of().formatHex(bytes);
    }

    /** Claims one account and signs with another key: what a forged or corrupted signature looks like. */
    private record WrongSigner(KeyPair claimed, KeyPair signing) implements KeyPair {
        @Override
        public KeyType type() {
            return claimed.type();
        }

        @Override
        public byte[] publicKey() {
            return claimed.publicKey();
        }

        @Override
        public byte[] sign(byte[] message) {
            return signing.sign(message);
        }
    }
}
