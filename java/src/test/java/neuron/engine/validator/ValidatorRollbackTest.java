package neuron.engine.validator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import neuron.engine.chain.Block;
import neuron.engine.chain.local.ChainServer;
import neuron.engine.chain.local.LocalChain;
import neuron.engine.journal.BlockJournal;
import neuron.engine.journal.JournalCursor;
import neuron.engine.testing.NeuronProcess;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A validator following best heads through a reorganisation: it rolls back to the common ancestor and goes on along
 * the new branch; its journal's canonical chain and its final checkpoint are the chain's, not the replaced branch's.
 */
@Slow
class ValidatorRollbackTest {
    /** Slow enough for the validator to keep up with the head on a busy machine, so that its blocks are not final. */
    private static final long BLOCK_TIME_MS = 1500;

    @TempDir
    Path dir;

    @Test
    void aReorganisationRollsTheValidatorBackToTheCommonAncestor() throws Exception {
        try (ChainServer server = ChainServer.start(new LocalChain("rollback-test", BLOCK_TIME_MS, 0),
                new InetSocketAddress("127.0.0.1", 0))) {
            Path journalDir = dir.resolve("journal");
            NeuronProcess validator = NeuronProcess.start(dir, dir.resolve("validator.log"), "validator",
                    "--chain", server.uri().toString(), "--follow", "best", "--journal_dir", journalDir.toString(),
                    "--checkpoint_path", dir.resolve("validator.pth").toString(), "--checkpoint_interval", "2",
                    "--submissions", dir.resolve("submissions").toString());
            long until;
            long forkedAt;
            try {
                long first = awaitJournaled(journalDir, 0, validator);
                awaitJournaled(journalDir, first + 4, validator);
                // replace blocks the validator has acted on, once it has one that is not final
                forkedAt = reorganiseJournaled(server.chain(), journalDir, validator);
                assertTrue(validator.awaitLog("rolling back", TimeUnit.MINUTES.toMillis(2)) != null, validator.log());
                until = awaitJournaled(journalDir, forkedAt + 4, validator);
                validator.process().destroy(); // SIGTERM: a graceful stop, exit status 143 (128 + SIGTERM) or 0
                int status = validator.await(300);
                assertTrue(status == 0 || status == 143, status + "\n" + validator.log());
                assertTrue(validator.log().contains("validator stopped at block"), validator.log());
            } finally {
                validator.kill();
            }
            assertTrue(validator.log().contains("CHAIN REORGANISATION"), validator.log());

            List<Block> journaled = new ArrayList<>();
            try (BlockJournal journal = BlockJournal.open(journalDir);
                 JournalCursor cursor = journal.replay(-1, Long.MAX_VALUE)) {
                while (cursor.next()) {
                    journaled.add(cursor.block().block());
                }
            }
            assertTrue(journaled.get(journaled.size() - 1).number() >= until, journaled.toString());
            for (int i = 0; i < journaled.size(); i++) {
                Block block = journaled.get(i);
                assertEquals(server.chain().blockAt(block.number(), java.time.Duration.ofSeconds(1)), block,
                        "block " + block.number() + " is the chain's (forked at " + forkedAt + ")");
                if (i > 0) {
                    assertEquals(journaled.get(i - 1).number() + 1, block.number());
                }
            }
            assertTrue(Files.exists(dir.resolve("validator.pth")));
        }
    }

    /** Replaces the chain from the validator's last journaled block on, waiting until that block is not final. */
    private static long reorganiseJournaled(LocalChain chain, Path journalDir, NeuronProcess validator) throws Exception {
        while (true) {
            long last = awaitJournaled(journalDir, chain.finalizedHead() + 1, validator);
            try {
                chain.reorganise(last);
                return last;
            } catch (IllegalArgumentException finalMeanwhile) {
                // finality reached it first: wait for the validator's next block
            }
        }
    }

    /** Waits until the journal's last block is at least {@code number}; returns that block's number. */
    private static long awaitJournaled(Path journalDir, long number, NeuronProcess validator) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (System.nanoTime() < deadline) {
            assertTrue(validator.process().isAlive(), validator.log());
            if (Files.exists(journalDir.resolve("block-journal.properties"))) {
                try (BlockJournal journal = BlockJournal.open(journalDir)) {
                    Block last = journal.lastBlock();
                    if (last != null && last.number() >= number) {
                        return last.number();
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("block " + number + " not journaled: " + validator.log());
    }
}
