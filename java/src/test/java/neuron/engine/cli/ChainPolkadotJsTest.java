package neuron.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import neuron.engine.testing.ChildJvm;
import neuron.engine.testing.NodeScripts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/neuron chain} as polkadot.js (the JavaScript client most Substrate tools build on) sees it: ApiPromise
 * connects, new and finalized heads come with hashes that polkadot.js computes itself from the SCALE header and
 * that match chain_getBlockHash, and storage and extrinsics decode through the metadata the server serves.
 */
class ChainPolkadotJsTest {
    private static final long BLOCK_TIME_MS = 100;
    private static final long GENESIS_TIME_MS = 1_735_689_600_000L;
    private static final Pattern SERVING = Pattern.compile("serving (ws://\\S+)");

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
            JsonNode seen = new ObjectMapper().readTree(
                    NodeScripts.run(Duration.ofSeconds(90), "", "polkadot-client.mjs", url, "5"));

            assertEquals("Neuron Local", seen.get("chain").asText());
            assertEquals("neuron-local", seen.get("specName").asText());
            assertEquals(14, seen.get("metadataVersion").asInt());
            assertEquals(List.of("System", "Timestamp"), names(seen.get("pallets")));
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
