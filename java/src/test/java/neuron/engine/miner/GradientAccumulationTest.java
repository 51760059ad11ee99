package neuron.engine.miner;

import neuron.engine.nativeio.LibTorch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --grad_accum N}: N micro-batches of B rows make the update of one batch of N × B rows (the same rows; the
 * sums differ only in float32 rounding), and a run resumed between two optimizer steps of an accumulating run goes
 * on bit for bit.
 */
class GradientAccumulationTest {
    private static final int STEPS = 6;
    /** Float32 sums in another order: losses and weights of the two runs within this, after {@link #STEPS} steps. */
    private static final double TOLERANCE = 2e-5;

    @BeforeAll
    static void loadLibTorch() {
        LibTorch.load();
    }

    private static MinerOptions tiny(int batch, int gradAccum) {
        return TrainResumeTest.tiny().withTraining(TrainingOptions.defaults().withSchedule(3e-3, 4, 6, 0.1)
                .withBatchSize(batch).withGradAccum(gradAccum));
    }

    @Test
    void microBatchesUpdateAsOneLargerBatch() {
        try (MinerLoop large = MinerLoop.create(tiny(8, 1));
             MinerLoop accumulated = MinerLoop.create(tiny(2, 4))) {
            assertEquals(large.tokensPerStep(), accumulated.tokensPerStep());
            for (int i = 0; i < STEPS; i++) {
                float a = large.step();
                float b = accumulated.step();
                assertEquals(a, b, TOLERANCE, "loss of step " + i);
            }
            double worst = 0;
            try (PointerScope scope = new PointerScope()) {
                for (Map.Entry<String, Tensor> p : large.model().stateDict().entrySet()) {
                    Tensor other = accumulated.model().stateDict().get(p.getKey());
                    worst = Math.max(worst, p.getValue().sub(other).abs().max().item_double());
                }
            }
            assertTrue(worst < TOLERANCE, "largest weight difference " + worst);
            assertTrue(worst > 0 || STEPS == 0, "two different summation orders, not one run twice");
        }
    }

    @Test
    void aResumeBetweenOptimizerStepsOfAnAccumulatingRunIsBitExact() {
        int k = 2;
        float[] uninterrupted = new float[STEPS];
        float[] resumed = new float[STEPS];
        try (MinerLoop whole = MinerLoop.create(tiny(2, 3))) {
            for (int i = 0; i < STEPS; i++) {
                uninterrupted[i] = whole.step();
            }
            Map<?, ?> copied;
            try (MinerLoop first = MinerLoop.create(tiny(2, 3))) {
                for (int i = 0; i < k; i++) {
                    resumed[i] = first.step();
                }
                copied = (Map<?, ?>) TrainTrees.deepCopy(first.state());
            }
            try (MinerLoop second = MinerLoop.restore(copied)) {
                assertEquals(3, second.options().training().gradAccum(), "the checkpoint keeps --grad_accum");
                for (int i = k; i < STEPS; i++) {
                    resumed[i] = second.step();
                }
                TrainTrees.assertBitIdentical(whole.state(), second.state(), "state");
            }
        }
        assertArrayEquals(TrainTrees.bits(uninterrupted), TrainTrees.bits(resumed), "per-step losses");
    }
}
