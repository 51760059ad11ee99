package neuron.engine.miner;

import neuron.engine.model.Precision;
import neuron.engine.model.TokenData;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.testing.PythonTorch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.tensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --precision bf16}: matrix products in bfloat16 over float32 master weights and moments. 200 {@code tiny}
 * steps follow float32's losses and PyTorch's {@code torch.autocast("cpu", torch.bfloat16)} run of the same
 * weights and batches; the checkpoint stays float32; a run changes precision across a resume.
 */
class MixedPrecisionTest {
    private static final int STEPS = 200;
    /** Any one step's loss: bf16 rounds each product's operands to 8 bits of mantissa (~0.4%). */
    private static final double STEP_TOLERANCE = 0.05;
    /** The mean loss of the last 50 steps: where training has got to. */
    private static final double MEAN_TOLERANCE = 0.01;

    @BeforeAll
    static void loadLibTorch() {
        LibTorch.load();
    }

    private static MinerOptions tiny(String precision) {
        return TrainResumeTest.tiny().withTraining(TrainingOptions.defaults().withSchedule(3e-3, 20, STEPS, 0.1))
                .withPrecision(precision);
    }

    @Test
    void bf16TrainsLikeFloat32AndLikePyTorchAutocast(@TempDir Path dir) throws Exception {
        float[] fp32 = new float[STEPS];
        float[] bf16 = new float[STEPS];
        Map<String, Object> initial = new LinkedHashMap<>();
        try (MinerLoop loop = MinerLoop.create(tiny("fp32"))) {
            loop.model().stateDict().forEach((name, t) -> initial.put(name, t.clone()));
            for (int i = 0; i < STEPS; i++) {
                fp32[i] = loop.step();
            }
        }
        try (MinerLoop loop = MinerLoop.create(tiny("bf16"))) {
            assertEquals(Precision.BF16, loop.model().precision());
            for (int i = 0; i < STEPS; i++) {
                bf16[i] = loop.step();
            }
            Map<?, ?> state = loop.state();
            for (Object t : ((Map<?, ?>) state.get("model_state_dict")).values()) {
                assertEquals(ScalarType.Float, ((Tensor) t).scalar_type().intern(), "float32 master weights");
            }
            Map<?, ?> moments = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) state.get("optimizer_state_dict")).get("state")).get(0L);
            assertEquals(ScalarType.Float, ((Tensor) moments.get("exp_avg_sq")).scalar_type().intern(), "float32 moments");
        }
        String against = compare("fp32", fp32, "bf16", bf16);
        assertTrue(fp32[STEPS - 1] < fp32[0] - 1, "the tiny model learns: " + fp32[0] + " -> " + fp32[STEPS - 1]);

        PythonTorch.assumeAvailable();
        Map<String, Object> tree = new LinkedHashMap<>();
        MinerOptions options = tiny("bf16");
        tree.put("config", options.model().toMap());
        tree.put("schedule", options.training().toMap());
        tree.put("params", new PyOrderedDict(initial));
        tree.put("batches", batches(options));
        tree.put("bf16", true);
        PythonExchange exchange = new PythonExchange(dir);
        exchange.write("train", tree);
        List<?> python = (List<?>) exchange.run("train").get("losses");
        float[] autocast = new float[STEPS];
        for (int i = 0; i < STEPS; i++) {
            autocast[i] = ((Number) python.get(i)).floatValue();
        }
        System.out.println(against + "; " + compare("PyTorch autocast bf16", autocast, "engine bf16", bf16));
    }

    @Test
    void aRunChangesPrecisionAcrossAResume() {
        Map<?, ?> copied;
        try (MinerLoop loop = MinerLoop.create(tiny("bf16"))) {
            for (int i = 0; i < 3; i++) {
                loop.step();
            }
            copied = (Map<?, ?>) TrainTrees.deepCopy(loop.state());
        }
        MinerOptions fp32 = tiny("fp32");
        try (MinerLoop resumed = MinerLoop.restore(copied, fp32, TokenData.open(fp32.data()))) {
            assertEquals(Precision.FP32, resumed.model().precision());
            assertEquals(3, resumed.globalStep());
            float loss = resumed.step();
            assertTrue(Float.isFinite(loss) && loss < 6, "goes on in float32: " + loss);
            assertEquals("fp32", ((Map<?, ?>) resumed.state().get("config")).get("precision"));
        }
    }

    /** The largest per-step difference and that of the last 50 steps' means, checked against the tolerances. */
    private static String compare(String aName, float[] a, String bName, float[] b) {
        double worst = 0;
        double meanA = 0;
        double meanB = 0;
        for (int i = 0; i < STEPS; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
            if (i >= STEPS - 50) {
                meanA += a[i] / 50.0;
                meanB += b[i] / 50.0;
            }
        }
        String said = String.format("%s vs %s over %d steps: largest step difference %.4f, last-50 means %.4f vs %.4f",
                aName, bName, STEPS, worst, meanA, meanB);
        assertTrue(worst < STEP_TOLERANCE, said);
        assertTrue(Math.abs(meanA - meanB) < MEAN_TOLERANCE, said);
        return said;
    }

    /** The rows each step of {@code options}' run trains on: (steps, batch, seq + 1). */
    private static Tensor batches(MinerOptions options) {
        TokenData data = TokenData.open(options.data());
        int rows = options.training().batchSize();
        int width = options.model().seqLen() + 1;
        long[] all = new long[STEPS * rows * width];
        long[] one = new long[rows * width];
        for (int step = 0; step < STEPS; step++) {
            data.fillBatch(options.seed(), step, rows, width, one);
            System.arraycopy(one, 0, all, step * one.length, one.length);
        }
        return tensor(all).view(STEPS, rows, width);
    }
}
