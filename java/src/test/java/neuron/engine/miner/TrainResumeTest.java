package neuron.engine.miner;

import neuron.engine.nativeio.LibTorch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Resume is exact: stopping at K, restoring from a copied state and going on to N matches an uninterrupted run. */
class TrainResumeTest {
    private static final int N = 12;
    private static final int K = 5;

    @BeforeAll
    static void loadLibTorch() {
        LibTorch.load();
    }

    static MinerOptions tiny() {
        return MinerOptions.preset("tiny").withDevice("cpu").withThreads(1).withSeed(7)
                .withTraining(TrainingOptions.defaults().withSchedule(3e-3, 4, 6, 0.1));
    }

    @Test
    void resumedRunIsBitIdenticalToUninterruptedRun() {
        float[] uninterruptedLosses = new float[N];
        float[] resumedLosses = new float[N];
        try (MinerLoop uninterrupted = MinerLoop.create(tiny())) {
            for (int i = 0; i < N; i++) {
                uninterruptedLosses[i] = uninterrupted.step();
            }
            Map<?, ?> copiedAtK;
            try (MinerLoop first = MinerLoop.create(tiny())) {
                for (int i = 0; i < K; i++) {
                    resumedLosses[i] = first.step();
                }
                copiedAtK = (Map<?, ?>) TrainTrees.deepCopy(first.state());
            }
            try (MinerLoop resumed = MinerLoop.restore(copiedAtK)) {
                assertEquals(K, resumed.globalStep());
                for (int i = K; i < N; i++) {
                    resumedLosses[i] = resumed.step();
                }
                assertEquals(N, resumed.globalStep());
                TrainTrees.assertBitIdentical(uninterrupted.state(), resumed.state(), "state");
            }
        }
        assertArrayEquals(TrainTrees.bits(uninterruptedLosses), TrainTrees.bits(resumedLosses), "per-step losses");
        assertTrue(uninterruptedLosses[N - 1] < uninterruptedLosses[0], "the tiny model learns: "
                + uninterruptedLosses[0] + " -> " + uninterruptedLosses[N - 1]);
    }

    @Test
    void restoredGlobalStepIsAuthoritative() {
        Map<String, Object> jumped;
        try (MinerLoop loop = MinerLoop.create(tiny())) {
            loop.step();
            jumped = castTree(TrainTrees.deepCopy(loop.state()));
        }
        jumped.put("global_step", 1000L);   // the reference system's global_step can jump ahead of the optimizer
        try (MinerLoop restored = MinerLoop.restore(jumped)) {
            assertEquals(1000L, restored.globalStep());
            assertEquals(1000L, restored.state().get("global_step"));
            restored.step();
            assertEquals(1001L, restored.globalStep());
            assertEquals(2L, ((Map<?, ?>) restored.state().get("scheduler_state_dict")).get("last_epoch"),
                    "the schedule keeps its own count");
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castTree(Object tree) {
        return (Map<String, Object>) tree;
    }
}
