package neuron.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import neuron.engine.chain.Follow;
import neuron.engine.chain.WsChainClient;
import neuron.engine.network.Commitment;
import neuron.engine.network.Hash32;
import neuron.engine.testing.ChildJvm;
import neuron.engine.testing.NodeScripts;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/neuron chain} as polkadot.js (the JavaScript client most Substrate tools build on) sees it: ApiPromise
 * connects, new and finalized heads come with hashes that polkadot.js computes itself from the SCALE header and
 * that match chain_getBlockHash, and storage and extrinsics decode through the metadata the server serves, among
 * them a miner's commitment ({@code Commitments.CommitmentOf}) and a validator's weights
 * ({@code SubtensorModule.Weights}) as the window protocol's calls put them on the chain.
 */
@Slow
class ChainPolkadotJsTest {
    private static final long BLOCK_TIME_MS = 100;
    private static final long GENESIS_TIME_MS = 1_735_689_600_000L;
    private static final Pattern SERVING = Pattern.compile("serving (ws://\\S+)");
    private static final int MINER = 3;
    private static final int VALIDATOR = 0;

    @TempDir
    Path dir;

    @Test
    void polkadotJsConnectsFollowsHeadsAndDecodesStorage() throws Exception {
        NodeScripts.assumeInstalled();
        File log = dir.resolve("chain.log").toFile();
        Process chain = ChildJvm.start(ChildJvm.command(List.of("-Xmx256m"), Main.class, "chain", "--port", "0",
                "--block_time_ms", Long.toString(BLOCK_TIME_MS)), dir.toFile(), log);
        try {
            String url = awaitServing(chain, log);
            Hash32 update = Hash32.sha256("an update".getBytes(StandardCharsets.UTF_8));
            try (WsChainClient client = WsChainClient.open(URI.create(url), Follow.BEST)) {
                assertTrue(client.awaitHead(1, Duration.ofSeconds(30)));
                client.commit(new Commitment(Commitment.Kind.UPDATE, MINER, 4, update));
                TreeMap<Integer, Integer> weights = new TreeMap<>();
                weights.put(1, 40_000);
                weights.put(MINER, 25_535);
                client.setWeights(VALIDATOR, weights);
            }
            JsonNode seen = new ObjectMapper().readTree(NodeScripts.run(Duration.ofSeconds(90), "",
                    "polkadot-client.mjs", url, "5", Integer.toString(MINER), Integer.toString(VALIDATOR)));

            assertEquals("Neuron Local", seen.get("chain").asText());
            assertEquals("neuron-local", seen.get("specName").asText());
            assertEquals(14, seen.get("metadataVersion").asInt());
            assertEquals(List.of("System", "Timestamp", "SubtensorModule", "Commitments"), names(seen.get("pallets")));
            assertLinkedAndServed(seen.get("newHeads"));
            assertLinkedAndServed(seen.get("finalizedHeads"));

            JsonNode storage = seen.get("storage");
            long block = storage.get("block").asLong();
            long now = GENESIS_TIME_MS + block * BLOCK_TIME_MS;
            assertEquals(now, storage.get("timestampNow").asLong(), "Timestamp.Now at block " + block);
            assertEquals(block, storage.get("systemNumber").asLong(), "System.Number");
            assertTrue(storage.get("latestTimestamp").asLong() >= now, "Timestamp.Now at the head is later");
            assertEquals(List.of("timestamp.set"), names(seen.get("calls")), "the block's inherent, decoded");
            assertEquals(Long.toString(now), seen.get("setArgument").asText());
            assertTrue(seen.get("finalizedHead").asText().matches("0x[0-9a-f]{64}"), seen.toString());

            JsonNode window = seen.get("window");
            JsonNode commitment = window.get("commitment");
            assertTrue(commitment.get("block").asLong() >= 1 && commitment.get("block").asLong() <= block,
                    "included in a block up to the one read: " + commitment);
            assertEquals("0", commitment.get("deposit").asText());
            JsonNode fields = commitment.get("fields");
            assertEquals(3, fields.size(), commitment.toString());
            assertField(fields.get(0), "Raw6", "update".getBytes(StandardCharsets.US_ASCII));
            assertField(fields.get(1), "Raw1", "4".getBytes(StandardCharsets.US_ASCII));
            assertField(fields.get(2), "Sha256", update.toBytes());
            assertEquals("[[1,40000],[3,25535]]", window.get("weights").toString(), "the validator's weights");
            assertTrue(window.get("absent").asBoolean(), "a uid that committed nothing has no CommitmentOf");
        } finally {
            chain.destroy();
            chain.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** At least five heads, each hash (polkadot.js's blake2 of the header) equal to the served one, parents linked. */
    private static void assertLinkedAndServed(JsonNode heads) {
        assertTrue(heads.size() >= 5, heads.toString());
        for (int i = 0; i < heads.size(); i++) {
            JsonNode head = heads.get(i);
            assertEquals(head.get("served").asText(), head.get("hash").asText(), "block " + head.get("number"));
            if (i > 0) {
                assertEquals(heads.get(i - 1).get("number").asLong() + 1, head.get("number").asLong(), heads.toString());
                assertEquals(heads.get(i - 1).get("hash").asText(), head.get("parent").asText(), heads.toString());
            }
        }
    }

    private static void assertField(JsonNode field, String type, byte[] value) {
        assertEquals(type, field.get("type").asText(), field.toString());
        assertEquals("0x" + HexFormat.of().formatHex(value), field.get("hex").asText(), field.toString());
    }

    private static List<String> names(JsonNode array) {
        return java.util.stream.StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
    }

    private static String awaitServing(Process chain, File log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && chain.isAlive()) {
            Matcher serving = SERVING.matcher(log.exists() ? Files.readString(log.toPath()) : "");
            if (serving.find()) {
                return serving.group(1);
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the chain server did not say where it serves: " + Files.readString(log.toPath()));
    }
}
