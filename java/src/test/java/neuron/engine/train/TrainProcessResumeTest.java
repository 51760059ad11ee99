package neuron.engine.train;

import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.cli.Main;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.testing.NeuronProcess;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.equal;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Resume is exact across processes: a run to step N, and a run stopped at K (gracefully, or by SIGKILL after a
 * checkpoint) and restarted from its checkpoint file to N, end with bit-identical parameters, optimizer state
 * and scheduler state.
 */
class TrainProcessResumeTest {
    private static final String[] COMMON = {"--seed", "3", "--batch_size", "2", "--seq_len", "32",
            "--checkpoint_interval", "4", "--warmup_steps", "3"};

    @TempDir
    Path dir;

    @BeforeAll
    static void torch() {
        LibTorch.load();
    }

    private String[] args(String name, long maxSteps) {
        List<String> a = new java.util.ArrayList<>(List.of("miner", "--checkpoint_path", dir.resolve(name).toString(),
                "--staging_dir", dir.resolve("staging-" + name).toString(), "--max_steps", Long.toString(maxSteps)));
        a.addAll(List.of(COMMON));
        return a.toArray(String[]::new);
    }

    @Test
    void gracefulAndKilledRunsResumeToTheSameBits() throws Exception {
        assertEquals(0, Main.run(args("straight.pth", 12)));

        assertEquals(0, Main.run(args("graceful.pth", 6)), "stops at 6, between two checkpoint multiples");
        assertEquals(6, CheckpointLoader.load(dir.resolve("graceful.pth"), "global_step").progress());
        assertEquals(0, Main.run(args("graceful.pth", 12)));

        NeuronProcess killed = NeuronProcess.start(dir, dir.resolve("killed.log"), args("killed.pth", 1000));
        assertNotNull(killed.awaitLog("checkpoint persisted: step (4|8)", 120_000), killed.log());
        killed.kill();
        assertEquals(0, Main.run(args("killed.pth", 12)));

        Map<?, ?> straight = CheckpointLoader.load(dir.resolve("straight.pth"), "global_step").tree();
        for (String resumed : List.of("graceful.pth", "killed.pth")) {
            Map<?, ?> other = CheckpointLoader.load(dir.resolve(resumed), "global_step").tree();
            assertSameTree("", straight, other, resumed);
        }
    }

    private static void assertSameTree(String path, Object a, Object b, String which) {
        if (a instanceof Tensor ta) {
            assertTrue(b instanceof Tensor tb && equal(ta, tb), which + ": tensor " + path + " differs");
        } else if (a instanceof Map<?, ?> ma) {
            Map<?, ?> mb = (Map<?, ?>) b;
            assertEquals(ma.keySet(), mb.keySet(), which + ": keys of " + path);
            ma.forEach((k, v) -> assertSameTree(path + "/" + k, v, mb.get(k), which));
        } else if (a instanceof List<?> la) {
            List<?> lb = (List<?>) b;
            assertEquals(la.size(), lb.size(), which + ": length of " + path);
            for (int i = 0; i < la.size(); i++) {
                assertSameTree(path + "/" + i, la.get(i), lb.get(i), which);
            }
        } else {
            assertEquals(a, b, which + ": value " + path);
        }
    }
}
