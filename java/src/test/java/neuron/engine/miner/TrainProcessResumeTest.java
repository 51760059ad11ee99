package neuron.engine.miner;

import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.checkpoint.StoredCheckpoint;
import neuron.engine.cli.Main;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.testing.NeuronProcess;
import neuron.engine.testing.Slow;
import neuron.engine.torch.TensorTrees;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Resume is exact across processes: a run to step N, and a run stopped at K (gracefully, or by SIGKILL after a
 * checkpoint) and restarted from its checkpoint file to N, end with bit-identical parameters, optimizer state
 * and scheduler state.
 */
@Slow
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
        assertEquals(6, CheckpointLoader.load(dir.resolve("graceful.pth"), "global_step", StoredCheckpoint::progress));
        assertEquals(0, Main.run(args("graceful.pth", 12)));

        NeuronProcess killed = NeuronProcess.start(dir, dir.resolve("killed.log"), args("killed.pth", 1000));
        assertNotNull(killed.awaitLog("checkpoint persisted: step (4|8)", 120_000), killed.log());
        killed.kill();
        assertEquals(0, Main.run(args("killed.pth", 12)));

        Map<?, ?> straight = TensorTrees.load(dir.resolve("straight.pth"), "global_step");
        for (String resumed : List.of("graceful.pth", "killed.pth")) {
            Map<?, ?> other = TensorTrees.load(dir.resolve(resumed), "global_step");
            TrainTrees.assertBitIdentical(straight, other, resumed);
        }
    }
}
