package neuron.engine.miner;

import neuron.engine.checkpoint.CheckpointConfig;
import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.checkpoint.CheckpointPolicy;
import neuron.engine.checkpoint.Checkpointer;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.testing.GatedSource;
import neuron.engine.torch.TensorTreeSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A snapshot taken lazily (copied while the loop runs the next step's forward and backward; the optimizer update
 * waits for the copy) is bit for bit the state at its step: parameters, AdamW moments and step counts, schedule.
 */
class TrainLazySnapshotTest {
    private static final int STEPS = 8;

    @TempDir
    Path dir;

    @BeforeAll
    static void torch() {
        LibTorch.load();
    }

    @Test
    void aLazySnapshotIsTheStateAtItsStepWhileTheLoopRunsOn() throws Exception {
        Path ckpt = dir.resolve("lazy.pth");
        Map<Long, Object> atTrigger = new HashMap<>();
        AtomicInteger overlapped = new AtomicInteger();
        MinerOptions options = TrainResumeTest.tiny();
        try (MinerLoop loop = MinerLoop.create(options);
             Checkpointer checkpointer = Checkpointer.open(new CheckpointConfig(ckpt, STEPS, dir.resolve("staging")),
                     new CheckpointPolicy(2), MinerLoop.checkpointBytes(options.model()), "global_step",
                     CheckpointListener.NONE)) {
            GatedSource source = new GatedSource(TensorTreeSource.of(loop::state));
            loop.beforeUpdate(() -> {
                if (source.copying()) {
                    overlapped.incrementAndGet();   // this step's forward and backward ran before the copy
                }
                source.proceed();
                checkpointer.awaitStaging();
            });
            while (loop.globalStep() < STEPS) {
                loop.step();
                if (checkpointer.afterStep(loop.globalStep(), source)) {
                    atTrigger.put(loop.globalStep(), TrainTrees.deepCopy(loop.state()));
                }
            }
            source.proceed();
            checkpointer.checkpointAndWait(STEPS, source, Duration.ofMinutes(2));
        }
        assertTrue(overlapped.get() >= 2, "the loop ran on during the copies: " + overlapped);
        int compared = TrainTrees.assertFilesMatch(ckpt, STEPS, "global_step", atTrigger);
        assertTrue(compared >= 3, "several lazy snapshots were persisted and compared: " + compared);
    }
}
