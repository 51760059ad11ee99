package neuron.engine.miner;

import neuron.engine.chain.local.ChainServer;
import neuron.engine.chain.local.LocalChain;
import neuron.engine.cli.Main;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.network.Aggregate;
import neuron.engine.network.Commitment;
import neuron.engine.network.Hash32;
import neuron.engine.network.ModelHash;
import neuron.engine.network.Submission;
import neuron.engine.network.SubmissionStore;
import neuron.engine.torch.TensorTrees;
import neuron.engine.validator.Updates;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A miner in a network, against a real chain server, with the test in the validator's place: it builds each
 * window's base from the aggregates committed on the chain (checking them), trains from it, and commits an update
 * against that base in a block of its window; restarted, it takes its base back from its checkpoint and is in
 * sync at once.
 */
class MinerWindowTest {
    private static final int BLOCKS_PER_WINDOW = 6;
    private static final long BLOCK_TIME_MS = 100;
    /** How long a window's last block waits for the miner's update (a miner starting up may not make one). */
    private static final Duration MINER_PATIENCE = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @BeforeAll
    static void torch() {
        LibTorch.load();
    }

    @Test
    void aMinerBuildsEachBaseFromTheCommittedAggregatesAndCommitsUpdatesAgainstIt() throws Exception {
        Map<String, Tensor> b0 = Updates.firstBase();
        Map<String, Tensor> a0 = Updates.noise(b0, 99);  // any aggregate will do: the miner only follows it
        SubmissionStore store = SubmissionStore.at(dir.resolve("store"));
        Hash32 base0 = ModelHash.of(b0);
        Hash32 base2 = ModelHash.of(b0, a0);
        Hash32 aggregate0 = store.put(Aggregate.tree(0, base2, a0));
        LocalChain chain = LocalChain.onDemand("miner-window");
        try (ChainServer server = ChainServer.start(chain, new InetSocketAddress("127.0.0.1", 0))) {
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicReference<Throwable> failed = new AtomicReference<>();
            // The chain and the validator's part. A block every BLOCK_TIME_MS, except that a window's last block
            // waits (up to MINER_PATIENCE) for the miner's update of that window: what lands in its window is
            // decided by the miner's commit, not by how fast this machine is. The aggregate of window 0, then zero
            // aggregates, each a block after its window.
            Thread network = new Thread(() -> {
                try {
                    long lastMade = System.nanoTime();
                    long aggregated = 0;
                    while (running.get()) {
                        long head = chain.head();
                        if (head >= (aggregated + 1) * BLOCKS_PER_WINDOW + 1) {
                            chain.commit(new Commitment(Commitment.Kind.AGGREGATE, 0, aggregated,
                                    aggregated == 0 ? aggregate0 : Hash32.ZERO));
                            aggregated++;
                        }
                        long next = head + 1;
                        boolean updateIn = next % BLOCKS_PER_WINDOW != BLOCKS_PER_WINDOW - 1
                                || chain.block(next).commitments().stream().anyMatch(c -> c.kind() == Commitment.Kind.UPDATE)
                                || System.nanoTime() - lastMade > MINER_PATIENCE.toNanos();
                        if (updateIn && System.nanoTime() - lastMade >= BLOCK_TIME_MS * 1_000_000) {
                            chain.makeBlock();
                            lastMade = System.nanoTime();
                        }
                        Thread.sleep(BLOCK_TIME_MS / 10);
                    }
                } catch (Throwable e) {
                    failed.set(e);
                }
            }, "chain-and-validator");
            network.start();
            String[] miner = {"miner", "--chain", server.uri().toString(), "--uid", "7", "--submissions",
                    dir.resolve("store").toString(), "--blocks_per_window", Integer.toString(BLOCKS_PER_WINDOW),
                    "--checkpoint_path", dir.resolve("m.pth").toString(), "--staging_dir", dir.resolve("staging").toString(),
                    "--batch_size", "2", "--seq_len", "16", "--max_steps", "250"};
            try {
                assertEquals(0, Main.run(miner));
                long firstRunHead = chain.head();
                miner[miner.length - 1] = "500";
                assertEquals(0, Main.run(miner), "restarted, it goes on from its checkpoint");
                // an update whose commitment the chain included only in the next window does not count (and a
                // busy machine makes a few): the others must name the right base
                List<Commitment> updates = new ArrayList<>();
                List<Long> secondRun = new ArrayList<>();
                for (long n = 0; n <= chain.head(); n++) {
                    for (Commitment c : chain.blockAt(n, Duration.ZERO).commitments()) {
                        if (c.kind() == Commitment.Kind.UPDATE && n / BLOCKS_PER_WINDOW == c.window()) {
                            assertEquals(7, c.uid());
                            updates.add(c);
                            if (n > firstRunHead) {
                                secondRun.add(c.window());
                            }
                        }
                    }
                }
                assertTrue(updates.size() >= 2 && !secondRun.isEmpty(), "updates in their window " + updates
                        + ", after the restart " + secondRun);
                for (Commitment c : updates) {
                    Submission s = Submission.read(store.verified(c.hash(), Long.MAX_VALUE), 7, c.window(),
                            neuron.engine.model.LlamaModel.shapes(Updates.TINY));
                    assertEquals(c.window() < 2 ? base0 : base2, s.base(), "window " + c.window() + "'s base");
                    assertTrue(s.delta().values().stream().anyMatch(t -> t.abs().sum().item_float() > 0),
                            "window " + c.window() + "'s update is training, not zeros");
                }
                Map<?, ?> saved = TensorTrees.load(dir.resolve("m.pth"), "global_step");
                Map<?, ?> window = (Map<?, ?>) saved.get(WindowMiner.CHECKPOINT_KEY);
                assertEquals(base2.toHex(), window.get("base_hash"), "the checkpoint holds the network's base");
                assertTrue((Long) window.get("window") >= 2);
            } finally {
                running.set(false);
                network.join(Duration.ofMinutes(1).toMillis());
            }
            assertFalse(network.isAlive(), "the chain's thread ends");
            assertNull(failed.get(), () -> "the chain's thread failed: " + failed.get());
        }
    }
}
