package neuron.engine.chain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import neuron.engine.chain.local.BlockFeeds;
import neuron.engine.chain.scale.ScaleReader;
import neuron.engine.journal.BlockJournal;
import neuron.engine.journal.JournalCursor;
import neuron.engine.testing.Chopsticks;
import neuron.engine.testing.NeuronProcess;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A validator following a real Substrate runtime: chopsticks runs Rococo Asset Hub's runtime offline from its raw
 * chain spec, blocks are made on demand with dev_newBlock, and {@code bin/neuron validator --chain ws://…} follows
 * its finalized heads. Every block is journaled once, with the hash chopsticks reports and its parent linked, across
 * a SIGKILL and a restart; the client reads the runtime's Timestamp.Now, which is the block's timestamp inherent.
 */
@Slow
class ChainChopsticksTest {
    @TempDir
    Path dir;

    @Test
    void aValidatorJournalsEveryBlockOfARealRuntimeAcrossAKill() throws Exception {
        try (Chopsticks chopsticks = Chopsticks.start(dir)) {
            URI uri = chopsticks.uri();
            Path journalDir = dir.resolve("journal");
            String[] validator = {"validator", "--chain", uri.toString(), "--journal_dir", journalDir.toString(),
                    "--checkpoint_path", dir.resolve("validator.pth").toString(), "--checkpoint_interval", "3",
                    "--submissions", dir.resolve("submissions").toString(), "--until_block", "12",
                    // chopsticks serves a placeholder hash for its genesis, which no header hashes to: start at 1
                    "--first_block", "1"};
            try (RpcClient node = new RpcClient(uri)) {
                NeuronProcess first = NeuronProcess.start(dir, dir.resolve("validator-1.log"), validator);
                try {
                    awaitJournaled(journalDir, 1, first);
                    newBlocks(node, 5);
                    awaitJournaled(journalDir, 6, first);
                } finally {
                    first.kill();
                }
                newBlocks(node, 3); // made while the validator is down
                NeuronProcess second = NeuronProcess.start(dir, dir.resolve("validator-2.log"), validator);
                try {
                    awaitJournaled(journalDir, 9, second);
                    newBlocks(node, 3);
                    assertEquals(0, second.await(180), second.log());
                    assertTrue(second.log().contains("resumed"), second.log());
                } finally {
                    second.kill();
                }

                List<Block> journaled = journaledBlocks(journalDir);
                assertEquals(12, journaled.get(journaled.size() - 1).number(), journaled.toString());
                try (BlockFeed feed = BlockFeeds.open(uri.toString(), 1, null)) {
                    long previousTime = -1;
                    for (int i = 0; i < journaled.size(); i++) {
                        Block block = journaled.get(i);
                        assertEquals(node.call("chain_getBlockHash", block.number()).get("result").asText(),
                                block.hash().toHex(), "block " + block.number() + " as chopsticks has it");
                        if (i > 0) {
                            assertEquals(journaled.get(i - 1).number() + 1, block.number(), "once each, in order");
                            assertEquals(journaled.get(i - 1).hash(), block.parentHash());
                        }
                        JsonNode body = node.call("chain_getBlock", block.hash().toHex()).at("/result/block");
                        List<byte[]> extrinsics = new ArrayList<>();
                        body.get("extrinsics").forEach(x -> extrinsics.add(Header.hexBytes(x)));
                        assertEquals(block, Header.fromJson(body.get("header")).block(), "chain_getBlock's header");
                        long time = feed.timestamp(block, Feeds.PATIENCE);
                        assertEquals(timestampInherent(extrinsics.get(0)), time, "Timestamp.Now is the block's inherent");
                        assertTrue(time > previousTime, "time goes forward");
                        previousTime = time;
                    }
                }
            }
        }
    }

    /** One block at a time: a block of a real runtime takes chopsticks a second or more on a busy machine. */
    private static void newBlocks(RpcClient node, int count) throws InterruptedException {
        for (int i = 0; i < count; i++) {
            JsonNode answer = node.call("dev_newBlock", Map.of("count", 1));
            assertTrue(answer.has("result"), answer.toString());
        }
    }

    /** The value of the first extrinsic, {@code timestamp.set(now)}: version 4, pallet and call index, compact now. */
    private static long timestampInherent(byte[] extrinsic) {
        ScaleReader in = new ScaleReader(extrinsic);
        in.length();
        assertEquals(4, in.u8(), "an unsigned extrinsic");
        in.u8(); // the pallet's index in this runtime
        assertEquals(0, in.u8(), "call 0 of Timestamp: set");
        return in.compact();
    }

    private static void awaitJournaled(Path journalDir, long number, NeuronProcess validator) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            assertTrue(validator.process().isAlive(), validator.log());
            if (Files.exists(journalDir.resolve("block-journal.properties"))) {
                List<Block> blocks = journaledBlocks(journalDir);
                if (!blocks.isEmpty() && blocks.get(blocks.size() - 1).number() >= number) {
                    return;
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("block " + number + " not journaled: " + validator.log());
    }

    private static List<Block> journaledBlocks(Path journalDir) {
        List<Block> blocks = new ArrayList<>();
        try (BlockJournal journal = BlockJournal.open(journalDir); JournalCursor cursor = journal.replay(-1, Long.MAX_VALUE)) {
            while (cursor.next()) {
                blocks.add(cursor.block().block());
            }
        }
        return blocks;
    }
}
