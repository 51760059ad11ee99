package neuron.engine.eval;

import neuron.engine.chain.ChainServer;
import neuron.engine.chain.LocalChain;
import neuron.engine.cli.Main;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.train.LlamaModel;
import neuron.engine.train.ModelConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A miner with --chain follows a real chain server and publishes one valid submission per finished window. */
class MinerPublishingTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void torch() {
        LibTorch.load();
    }

    @Test
    void aMinerOnAChainPublishesValidWindowUpdates() throws Exception {
        Path store = dir.resolve("submissions");
        try (ChainServer server = ChainServer.start(new LocalChain("publish-test", 40, 0),
                new InetSocketAddress("127.0.0.1", 0))) {
            assertEquals(0, Main.run("miner", "--chain", server.uri().toString(), "--uid", "7", "--submissions",
                    store.toString(), "--checkpoint_path", dir.resolve("m.pth").toString(), "--staging_dir",
                    dir.resolve("staging").toString(), "--max_steps", "150", "--batch_size", "2", "--seq_len", "16"));
        }
        SubmissionStore submissions = new SubmissionStore(store);
        List<Long> windows = new ArrayList<>();
        for (long w = 0; w < 1000; w++) {
            if (submissions.uids(w).contains(7)) {
                windows.add(w);
                Path file = submissions.path(w, 7);
                Submission s = Submission.read(file, Submission.contentHash(file), 7, w,
                        ValidatorConfig.DEFAULT_BLOCKS_PER_WINDOW,
                        LlamaModel.shapes(ModelConfig.preset("tiny")));
                assertEquals(w, s.window());
                assertTrue(s.delta().values().stream().anyMatch(t -> t.abs().sum().item_float() > 0),
                        "the update of window " + w + " is the miner's training, not zeros");
            }
        }
        assertTrue(windows.size() >= 2, "published windows: " + windows);
    }
}
