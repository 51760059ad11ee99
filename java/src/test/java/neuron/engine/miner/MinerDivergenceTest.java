package neuron.engine.miner;

import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.checkpoint.StoredCheckpoint;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.testing.NeuronProcess;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A run that diverges (lr 1e4 on the tiny model: its parameters hold NaN by step 6, its loss by step 7) keeps its
 * last finite checkpoint and its backups, stops with exit status 1 and one line that says where, what, which
 * checkpoint is good and what to change; a restart with a sane lr resumes from that checkpoint.
 */
class MinerDivergenceTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void torch() {
        LibTorch.load();
    }

    private NeuronProcess miner(Path ckpt, String... more) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("miner", "--model", "tiny", "--checkpoint_path",
                ckpt.toString(), "--staging_dir", dir.resolve("staging").toString()));
        args.addAll(List.of(more));
        return NeuronProcess.start(dir, dir.resolve("miner-" + System.nanoTime() + ".log"), args.toArray(String[]::new));
    }

    @Test
    void aDivergingRunKeepsItsLastFiniteCheckpointAndARestartResumesFromIt() throws Exception {
        Path ckpt = dir.resolve("m.pth");
        NeuronProcess diverging = miner(ckpt, "--lr", "1e4", "--max_steps", "60", "--checkpoint_interval", "2");
        assertEquals(1, diverging.await(300), diverging.log());
        String log = diverging.log();
        List<String> lines = log.lines().filter(l -> l.contains("the run diverged")).toList();
        assertEquals(1, lines.size(), log);
        String line = lines.get(0);
        assertTrue(line.startsWith("neuron miner: the run diverged at global_step 7: the state of global_step 6 "
                + "copied for a checkpoint: model_state_dict.model.embed_tokens.weight holds NaN or an infinity; "
                + "nothing of it was checkpointed; the last good checkpoint " + ckpt + " (global_step 4) and its "
                + "backups are kept; start again with a lower --lr (now 10000.0) or --grad_clip (now 1.0)"), line);
        assertEquals(4, CheckpointLoader.load(ckpt, MinerRun.PROGRESS_KEY, StoredCheckpoint::progress),
                "the newest file is finite: it loads");
        assertEquals(2, CheckpointLoader.load(ckpt.resolveSibling("m.pth.1"), MinerRun.PROGRESS_KEY,
                StoredCheckpoint::progress));
        assertFalse(Files.exists(ckpt.resolveSibling("m.pth.corrupt")));

        NeuronProcess restarted = miner(ckpt, "--lr", "1e-3", "--override", "lr", "--max_steps", "8",
                "--checkpoint_interval", "2");
        assertEquals(0, restarted.await(300), restarted.log());
        String after = restarted.log();
        assertTrue(after.contains("resumed from checkpoint " + ckpt + ": global_step 4"), after);
        assertTrue(after.contains("miner stopped at global_step 8; checkpoint " + ckpt + " (global_step 8) is on disk"),
                after);
    }

    @Test
    void aRunThatDivergesBeforeItsFirstCheckpointSaysNoneWasWritten() throws Exception {
        Path ckpt = dir.resolve("m.pth");
        NeuronProcess diverging = miner(ckpt, "--lr", "1e4", "--max_steps", "60", "--checkpoint_interval", "10");
        assertEquals(1, diverging.await(300), diverging.log());
        String log = diverging.log();
        assertTrue(log.contains("neuron miner: the run diverged at global_step 7: the loss is NaN; nothing of it was "
                + "checkpointed; no checkpoint was written; start again with a lower --lr"), log);
        assertFalse(Files.exists(ckpt));
    }
}
