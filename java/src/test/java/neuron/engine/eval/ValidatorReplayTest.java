package neuron.engine.eval;

import neuron.engine.torch.TensorTrees;
import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.cli.Main;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.testing.NeuronProcess;
import neuron.engine.train.ModelConfig;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A validator killed with SIGKILL at several moments and restarted each time (checkpoint, then journal replay)
 * reaches, at block B, exactly the state of a validator that never stopped: model, scores, weights, global_step.
 */
class ValidatorReplayTest {
    private static final long UNTIL = 45;

    @TempDir
    Path dir;

    @BeforeAll
    static void torch() {
        LibTorch.load();
    }

    private String[] args(String name) {
        return new String[]{"validator", "--checkpoint_path", dir.resolve(name + ".pth").toString(),
                "--journal_dir", dir.resolve(name + ".journal").toString(),
                "--staging_dir", dir.resolve(name + ".staging").toString(),
                "--submissions", Submissions.storeDir(dir).toString(), "--block_time_ms", "60",
                "--until_block", Long.toString(UNTIL), "--checkpoint_interval", "10"};
    }

    @Test
    void aKilledAndRestartedValidatorReachesTheSameStateBitForBit() throws Exception {
        Submissions.fill(new SubmissionStore(Submissions.storeDir(dir)), ModelConfig.preset("tiny"), 16);

        assertEquals(0, Main.run(args("straight")));

        Random random = new Random(7);
        List<Long> replayed = new ArrayList<>();
        String[] killPoints = {"checkpoint persisted: block 10", "window \\d+ evaluated at block 2\\d", "snapshot done: block 30"};
        for (String point : killPoints) {
            NeuronProcess v = NeuronProcess.start(dir, dir.resolve("crashed.log"), args("crashed"));
            v.awaitLog(point, 120_000);
            Thread.sleep(random.nextInt(150));
            v.kill();
            replayed.addAll(NeuronProcess.all(v.log(), "replayed (\\d+) journaled blocks"));
        }
        NeuronProcess last = NeuronProcess.start(dir, dir.resolve("crashed.log"), args("crashed"));
        assertEquals(0, last.await(300), last.log());
        replayed.addAll(NeuronProcess.all(last.log(), "replayed (\\d+) journaled blocks"));
        assertTrue(replayed.stream().anyMatch(n -> n > 0), "restarts replayed journaled blocks: " + replayed);

        Map<?, ?> straight = TensorTrees.load(dir.resolve("straight.pth"), "block");
        Map<?, ?> crashed = TensorTrees.load(dir.resolve("crashed.pth"), "block");
        assertEquals(UNTIL, straight.get("block"));
        assertTrue((Long) straight.get("global_step") >= 12, "windows were evaluated");
        assertEquals(List.of(), ValidatorReplay.differences(straight, crashed), "the crashed validator's state");
        assertEquals(TensorTrees.bytes(straight),
                Validator.checkpointBytes(ValidatorConfig.fromMap((Map<?, ?>) straight.get("config"))),
                "staging is sized for the validator's state");
        Tensor scores = (Tensor) straight.get("scores");
        assertTrue(scores.abs().sum().item_float() > 0, "miners got scores");
        assertTrue(scores.isfinite().all().item_bool() && ((Tensor) straight.get("weights")).isfinite().all().item_bool(),
                "a submission that overflows the loss cannot poison scores or weights");
        assertEquals(0f, scores.get(6).item_float(), "the saturating submission of uid 6 was rejected, scored 0");

        // The replay tool rebuilds the newest checkpoint from the oldest backup and the journal...
        String[] verify = {"replay", "--journal_dir", dir.resolve("straight.journal").toString(), "--checkpoint_path",
                dir.resolve("straight.pth").toString(), "--submissions", Submissions.storeDir(dir).toString(), "--verify"};
        String report = captured(verify);
        assertTrue(report.startsWith("exit 0") && report.contains("differences: []") && report.contains("from_block: 30"), report);
        // A miner that rewrites its file after it was evaluated changes nothing: the replay reads the archived copy.
        Submissions.replace(new SubmissionStore(Submissions.storeDir(dir)), ModelConfig.preset("tiny"), 12, 1);
        String rewritten = captured(verify);
        assertTrue(rewritten.startsWith("exit 0") && rewritten.contains("differences: []"), rewritten);
        // A checkpoint that does not match its journal is reported, difference by difference.
        Map<String, Object> altered = new java.util.LinkedHashMap<>();
        TensorTrees.load(dir.resolve("straight.pth"), "block").forEach((k, v) -> altered.put((String) k, v));
        altered.put("scores", ((Tensor) altered.get("scores")).add(new org.bytedeco.pytorch.Scalar(1.0)));
        TensorTrees.save(dir.resolve("straight.pth"), altered);
        String tampered = captured(verify);
        assertTrue(tampered.startsWith("exit 1") && tampered.contains("/scores: tensors differ"), tampered);
    }

    private static String captured(String... args) {
        java.io.PrintStream out = System.out;
        java.io.ByteArrayOutputStream buffer = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(buffer, true));
        try {
            int status = Main.run(args);
            return "exit " + status + "\n" + buffer;
        } finally {
            System.setOut(out);
        }
    }
}
