package neuron.engine.compress;

import neuron.engine.pth.PthReader;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.allclose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Error feedback: nothing is lost over windows, and a sender restored from its checkpoint goes on bit for bit. */
class ErrorFeedbackTest {
    private static final Map<String, long[]> SHAPES = SparseCodecTest.shapes("w", new long[]{128, 96}, "n", new long[]{96});

    @TempDir
    Path dir;
    private final SparseCodec codec = new SparseCodec(CodecSettings.DEFAULT);

    private static Map<String, Tensor> pseudoGradient(int window) {
        Map<String, Tensor> g = new LinkedHashMap<>();
        long seed = SparseCodecTest.SEED * 1000 + window * 10L;
        for (Map.Entry<String, long[]> e : SHAPES.entrySet()) {
            g.put(e.getKey(), SparseCodecTest.random(seed++, e.getValue()));
        }
        return g;
    }

    private Path send(ErrorFeedback ef, int window, String run) throws Exception {
        Map<String, CompressedTensor> sent = ef.step(pseudoGradient(window));
        Path file = Files.createDirectories(dir.resolve(run)).resolve("update-" + window + ".pth");
        UpdateFile.write(file, Map.of("window", (long) window), sent);
        sent.values().forEach(CompressedTensor::close);
        return file;
    }

    @Test
    void whatIsNotSentYetIsKept() {
        try (PointerScope scope = new PointerScope(); ErrorFeedback ef = ErrorFeedback.zeros(codec, 1.0, SHAPES)) {
            Map<String, Tensor> sentSum = new LinkedHashMap<>();
            Map<String, Tensor> gradientSum = new LinkedHashMap<>();
            SHAPES.forEach((name, shape) -> {
                sentSum.put(name, SparseCodecTest.random(0, shape).zero_());
                gradientSum.put(name, SparseCodecTest.random(0, shape).zero_());
            });
            for (int window = 0; window < 4; window++) {
                Map<String, Tensor> g = pseudoGradient(window);
                g.forEach((name, t) -> gradientSum.get(name).add_(t));
                ef.step(g).forEach((name, c) -> sentSum.get(name).add_(codec.decompress(c)));
            }
            Map<?, ?> buffers = (Map<?, ?>) ef.state();
            SHAPES.keySet().forEach(name -> assertTrue(allclose(sentSum.get(name).add((Tensor) buffers.get(name)),
                    gradientSum.get(name), 1e-5, 1e-5, false), name + ": sent + kept != the pseudo-gradients' sum"));
        }
    }

    @Test
    void aRestoredSenderSendsTheSameBytes() throws Exception {
        try (PointerScope scope = new PointerScope()) {
            try (ErrorFeedback straight = ErrorFeedback.zeros(codec, ErrorFeedback.DEFAULT_BETA, SHAPES)) {
                for (int window = 0; window < 3; window++) {
                    send(straight, window, "straight");
                }
            }
            Path checkpoint = dir.resolve("checkpoint.pth");
            try (ErrorFeedback first = ErrorFeedback.zeros(codec, ErrorFeedback.DEFAULT_BETA, SHAPES)) {
                send(first, 0, "resumed");
                TensorTrees.save(checkpoint, Map.of("error_feedback", first.state()));
            }
            Map<?, ?> saved;
            try (PthReader reader = PthReader.open(checkpoint)) {
                saved = (Map<?, ?>) ((Map<?, ?>) TensorTrees.materialize(reader.root(), reader)).get("error_feedback");
            }
            try (ErrorFeedback resumed = ErrorFeedback.restore(codec, ErrorFeedback.DEFAULT_BETA, SHAPES, saved)) {
                for (int window = 1; window < 3; window++) {
                    Path file = send(resumed, window, "resumed");
                    assertEquals(-1, Files.mismatch(file, dir.resolve("straight").resolve("update-" + window + ".pth")),
                            "window " + window + ": the resumed sender's update differs");
                }
            }
        }
    }
}
