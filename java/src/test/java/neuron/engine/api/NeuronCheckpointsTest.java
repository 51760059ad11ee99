package neuron.engine.api;

import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.checkpoint.StoredCheckpoint;
import neuron.engine.miner.TrainTrees;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.pth.PyTuple;
import neuron.engine.testing.CheckpointScripts;
import neuron.engine.testing.PythonTorch;
import neuron.engine.testing.Slow;
import neuron.engine.torch.TensorTreeSource;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.bytedeco.pytorch.global.torch.zeros;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The embedding API's checkpoint lifecycle over an application's own state. */
@Slow
class NeuronCheckpointsTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void torch() {
        LibTorch.load();
    }

    /**
     * An application's own loop state: one weight, {@code torch.optim.AdamW}-shaped optimizer state and
     * {@code LambdaLR}-shaped scheduler state, every value a function of the step.
     */
    private static final class App {
        final Tensor weight = zeros(new long[]{4}, new TensorOptions(ScalarType.Float));
        final Tensor adamStep = zeros(new long[0], new TensorOptions(ScalarType.Float));
        final Tensor expAvg = zeros(new long[]{4}, new TensorOptions(ScalarType.Float));
        final Tensor expAvgSq = zeros(new long[]{4}, new TensorOptions(ScalarType.Float));
        long step;

        void update() {
            weight.add_(new Scalar(1.0));
            adamStep.add_(new Scalar(1.0));
            expAvg.add_(new Scalar(0.5));
            expAvgSq.add_(new Scalar(0.25));
            step++;
        }

        Map<String, Object> state() {
            Map<Object, Object> group = dict("lr", 1e-3, "betas", PyTuple.of(0.9, 0.999), "eps", 1e-8,
                    "weight_decay", 0.01, "amsgrad", false, "maximize", false, "foreach", null, "capturable", false,
                    "differentiable", false, "fused", null, "initial_lr", 1e-3, "params", List.of(0L));
            Map<Object, Object> optimizer = dict("state", dict(0L, dict("step", adamStep, "exp_avg", expAvg,
                    "exp_avg_sq", expAvgSq)), "param_groups", List.of(group));
            Map<Object, Object> scheduler = dict("base_lrs", List.of(1e-3), "last_epoch", step, "_step_count",
                    step + 1, "verbose", false, "_last_lr", List.of(1e-3), "lr_lambdas", Arrays.asList((Object) null));
            PyOrderedDict model = new PyOrderedDict();
            model.put("w", weight);
            Map<String, Object> tree = new LinkedHashMap<>();
            tree.put("global_step", step);
            tree.put("model_state_dict", model);
            tree.put("optimizer_state_dict", optimizer);
            tree.put("scheduler_state_dict", scheduler);
            tree.put("note", "an application's own state");
            return tree;
        }
    }

    /** A Python dict literal: keys and values alternate. */
    private static Map<Object, Object> dict(Object... keysAndValues) {
        Map<Object, Object> out = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            out.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return out;
    }

    private NeuronCheckpoints open(Path file, long interval) throws Exception {
        return NeuronCheckpoints.forMiner(file).interval(interval).stagingDirectory(dir.resolve("staging-" + file.getFileName()))
                .expectedStateBytes(1 << 10).open();
    }

    /**
     * Runs {@code steps} updates the way a loop does: wait before each update, report after it. Returns the steps
     * at which a snapshot was taken.
     */
    private static List<Long> train(NeuronCheckpoints checkpoints, App app, int steps) {
        var source = TensorTreeSource.of(app::state);
        List<Long> snapshots = new ArrayList<>();
        for (int i = 0; i < steps; i++) {
            checkpoints.awaitStaging();
            app.update();
            if (checkpoints.afterStep(app.step, source)) {
                snapshots.add(app.step);
            }
        }
        return snapshots;
    }

    private static long progress(Path file) throws Exception {
        return CheckpointLoader.load(file, "global_step", StoredCheckpoint::progress);
    }

    @Test
    void checkpointsAtTheIntervalAndOnceMoreAtClose() throws Exception {
        Path file = dir.resolve("app.pth");
        try (NeuronCheckpoints checkpoints = open(file, 3)) {
            assertTrue(checkpoints.restore(TensorTrees::materialize).isEmpty(), "nothing to restore at first");
            assertEquals(List.of(3L, 6L), train(checkpoints, new App(), 7), "snapshots at the interval");
        }
        assertEquals(7, progress(file), "close() took the final checkpoint");
        // Backups are older snapshots, newest first; the writer persists the newest committed snapshot, so one
        // committed while another was being persisted may have been passed over.
        List<Long> backups = new ArrayList<>();
        for (int g = 1; Files.exists(file.resolveSibling("app.pth." + g)); g++) {
            backups.add(progress(file.resolveSibling("app.pth." + g)));
        }
        assertTrue(List.of(List.of(), List.of(3L), List.of(6L), List.of(6L, 3L)).contains(backups), backups.toString());
    }

    @Test
    void restoreGivesTheNewestValidStateAndWhereItCameFrom() throws Exception {
        Path file = dir.resolve("app.pth");
        App app = new App();
        for (int session = 0; session < 2; session++) {   // two runs, two files: app.pth at 4, app.pth.1 at 2
            try (NeuronCheckpoints checkpoints = open(file, 100)) {
                checkpoints.restore(TensorTrees::materialize);
                train(checkpoints, app, 2);
            }
        }
        Map<?, ?> atStep2 = TensorTrees.load(file.resolveSibling("app.pth.1"), "global_step");
        try (RandomAccessFile damaged = new RandomAccessFile(file.toFile(), "rw")) {
            damaged.setLength(damaged.length() / 2);
        }
        try (NeuronCheckpoints checkpoints = open(file, 100)) {
            Optional<Restored<Map<?, ?>>> restored = checkpoints.restore(TensorTrees::materialize);
            assertTrue(restored.isPresent());
            assertEquals(file.resolveSibling("app.pth.1"), restored.get().file(), "the damaged file was passed over");
            assertEquals(2, restored.get().progress());
            TrainTrees.assertBitIdentical(atStep2, restored.get().state(), "restored");
        }
        assertTrue(Files.exists(file.resolveSibling("app.pth.corrupt")), "kept as evidence");
    }

    @Test
    void aLoopStoppedInTheMiddleOfAnUpdateGetsNoFinalCheckpoint() throws Exception {
        Path file = dir.resolve("torn.pth");
        App app = new App();
        try (NeuronCheckpoints checkpoints = open(file, 100)) {
            train(checkpoints, app, 2);
            checkpoints.awaitStaging();
            app.weight.add_(new Scalar(1000.0));   // half an update, then the loop throws
        }
        assertFalse(Files.exists(file), "a half-updated state is never written");
    }

    @Test
    void aSecondRestoreRebuildsAndForgetsTheStateBefore() throws Exception {
        Path file = dir.resolve("rebuild.pth");
        try (NeuronCheckpoints checkpoints = open(file, 100)) {
            train(checkpoints, new App(), 3);
            checkpoints.awaitStaging();   // the state is about to be dropped
            assertTrue(checkpoints.restore(TensorTrees::materialize).isEmpty(), "no checkpoint on disk yet");
        }
        assertFalse(Files.exists(file), "the dropped state is not checkpointed at close");
    }

    /** A newest checkpoint that the application refuses (a validator's on a replaced branch) is passed over. */
    @Test
    void restoreBeforePassesOverWhatTheApplicationRefuses() throws Exception {
        Path file = dir.resolve("branches.pth");
        App app = new App();
        for (int session = 0; session < 3; session++) {   // branches.pth at 6, .1 at 4, .2 at 2
            try (NeuronCheckpoints checkpoints = open(file, 100)) {
                checkpoints.restore(TensorTrees::materialize);
                train(checkpoints, app, 2);
            }
        }
        try (NeuronCheckpoints checkpoints = open(file, 100)) {
            Optional<Restored<Map<?, ?>>> newest = checkpoints.restore(TensorTrees::materialize);
            assertEquals(6, newest.orElseThrow().progress());
            Optional<Restored<Map<?, ?>>> older = checkpoints.restoreBefore(6, TensorTrees::materialize,
                    tree -> ((Number) tree.get("global_step")).longValue() != 4);
            assertEquals(2, older.orElseThrow().progress(), "4 refused, 2 taken");
            assertEquals(file.resolveSibling("branches.pth.2"), older.get().file());
            assertTrue(checkpoints.restoreBefore(2, TensorTrees::materialize, tree -> true).isEmpty());
        }
        assertEquals(List.of(6L, 4L, 2L), List.of(progress(file), progress(file.resolveSibling("branches.pth.1")),
                progress(file.resolveSibling("branches.pth.2"))), "files passed over stay where they are");
    }

    /** The state is PyTorch's: torch.optim.AdamW and LambdaLR load it and step, and torch.save writes it back. */
    @Test
    void theStateRoundTripsThroughTorchSave() throws Exception {
        PythonTorch.assumeAvailable();
        Path file = dir.resolve("app.pth");
        try (NeuronCheckpoints checkpoints = open(file, 100)) {
            train(checkpoints, new App(), 3);
        }
        Path resaved = dir.resolve("resaved.pth");
        String out = PythonTorch.run(CheckpointScripts.LOAD + """
                ck = load(sys.argv[1])
                opt_state = ck['optimizer_state_dict']
                assert isinstance(opt_state['param_groups'][0]['betas'], tuple)
                assert list(opt_state['state'].keys()) == [0]
                assert opt_state['state'][0]['step'].dim() == 0 and float(opt_state['state'][0]['step']) == 3.0
                assert ck['scheduler_state_dict']['lr_lambdas'] == [None]
                p = torch.nn.Parameter(ck['model_state_dict']['w'].clone())
                opt = torch.optim.AdamW([p])
                sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
                opt.load_state_dict(opt_state)
                sched.load_state_dict(ck['scheduler_state_dict'])
                p.grad = torch.ones_like(p)
                opt.step()
                sched.step()
                torch.save(ck, sys.argv[2])
                print('stepped', float(opt.state_dict()['state'][0]['step']), sched.last_epoch)
                """, file.toString(), resaved.toString());
        assertTrue(out.contains("stepped 4.0 4"), out);
        Map<?, ?> ours = TensorTrees.load(file, "global_step");
        try (NeuronCheckpoints checkpoints = open(resaved, 100)) {
            Optional<Restored<Map<?, ?>>> theirs = checkpoints.restore(TensorTrees::materialize);
            assertTrue(theirs.isPresent());
            assertEquals(3, theirs.get().progress());
            TrainTrees.assertBitIdentical(ours, theirs.get().state(), "torch.save");
        }
    }
}
