package neuron.engine.validator;

import neuron.engine.model.LlamaModel;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.network.Hash32;
import neuron.engine.network.Submission;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A bad update is refused for its own reason, the one the validator logs when it scores it 0. */
class SubmissionTest {
    /** README: "a weight changed by more than 100" is a bad update. */
    private static final double DOCUMENTED_MAX_CHANGE = 100;
    private static final Hash32 BASE = Hash32.sha256("base".getBytes());

    @TempDir
    Path dir;

    private static Map<String, Tensor> zeros;
    private static Map<String, long[]> shapes;
    private static String matrix;

    @BeforeAll
    static void torch() {
        LibTorch.load();
        zeros = Updates.zeros(Updates.firstBase());
        shapes = LlamaModel.shapes(Updates.TINY);
        matrix = zeros.entrySet().stream().filter(e -> e.getValue().dim() == 2).findFirst().orElseThrow().getKey();
    }

    /** The update of uid 4 for window 0 with {@code change} applied to one weight matrix. */
    private Path written(UnaryOperator<Tensor> change) throws Exception {
        Map<String, Tensor> delta = new LinkedHashMap<>(zeros);
        delta.put(matrix, change.apply(zeros.get(matrix).clone()));
        Path file = dir.resolve("update.pth");
        TensorTrees.save(file, Submission.tree(4, 0, BASE, delta));
        return file;
    }

    private static Tensor withOne(Tensor t, double value) {
        t.view(-1).narrow(0, 3, 1).fill_(new Scalar(value));
        return t;
    }

    private String refused(Path file) {
        return assertThrows(Submission.Rejected.class, () -> Submission.read(file, 4, 0, shapes)).getMessage();
    }

    @Test
    void aValidUpdateIsReadUpToTheDocumentedLargestChange() throws Exception {
        Submission s = Submission.read(written(t -> withOne(t, -DOCUMENTED_MAX_CHANGE)), 4, 0, shapes);
        assertEquals(BASE, s.base());
        assertEquals(DOCUMENTED_MAX_CHANGE, Submission.MAX_ABS_DELTA);
    }

    @Test
    void eachBadUpdateIsRefusedWithItsReason() throws Exception {
        assertEquals(matrix + " is Double, not float32", refused(written(t -> t.to(ScalarType.Double))));
        assertTrue(refused(written(t -> t.reshape(-1))).startsWith(matrix + " has shape ["), matrix);
        assertEquals(matrix + " holds NaN or Inf", refused(written(t -> withOne(t, Double.NaN))));
        assertEquals(matrix + " holds NaN or Inf", refused(written(t -> withOne(t, Double.NEGATIVE_INFINITY))));
        assertEquals(matrix + " changes a weight by 100.5 (more than 100.0)",
                refused(written(t -> withOne(t, -(DOCUMENTED_MAX_CHANGE + 0.5)))));
        assertEquals("it says uid 4 window 0", assertThrows(Submission.Rejected.class,
                () -> Submission.read(written(t -> t), 5, 0, shapes)).getMessage());

        Path text = dir.resolve("text.pth");
        Files.writeString(text, "not a checkpoint");
        assertTrue(refused(text).startsWith("not a valid .pth: "), refused(text));

        Map<String, Tensor> renamed = new LinkedHashMap<>(zeros);
        renamed.put("extra.weight", renamed.remove(matrix));
        Path file = dir.resolve("renamed.pth");
        TensorTrees.save(file, Submission.tree(4, 0, BASE, renamed));
        assertEquals("its delta's names do not match the model's parameters", refused(file));
    }
}
