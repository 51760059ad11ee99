package neuron.engine.checkpoint;

import neuron.engine.testing.CheckpointScripts;
import neuron.engine.testing.NeuronProcess;
import neuron.engine.testing.PythonTorch;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGKILL at random moments (start-up, recovery, a lazy copy, persist, rename) of a miner that checkpoints every
 * step always leaves a checkpoint that PyTorch loads; global_step never goes back past the last snapshot that was
 * committed to staging, and a restart loses at most the one step whose copy was cut off.
 */
@Slow
class CheckpointKillTest {
    private static final int TRIALS = 24;

    @TempDir
    Path dir;

    @Test
    void killedMinersAlwaysLeaveALoadableCheckpointThatNeverGoesBack() throws Exception {
        Path ckpt = dir.resolve("miner_checkpoint.pth");
        String[] args = {"miner", "--checkpoint_path", ckpt.toString(), "--staging_dir", dir.resolve("staging").toString(),
                "--checkpoint_interval", "1", "--batch_size", "2", "--seq_len", "16", "--seed", "5", "--max_steps", "100000"};
        Random random = new Random(20261128);
        long lastCommitted = -1;
        long lastScheduled = -1;
        long lastOnDisk = -1;
        List<Path> leftBehind = new ArrayList<>();
        List<Long> stepsOnDisk = new ArrayList<>();
        int killedWithAPersistInFlight = 0;
        int resumes = 0;
        for (int trial = 0; trial < TRIALS; trial++) {
            NeuronProcess miner = NeuronProcess.start(dir, dir.resolve("trial-" + trial + ".log"), args);
            // Half the kills come while the miner starts up or recovers, half once it is checkpointing.
            if (trial % 2 == 1) {
                miner.awaitLog("checkpoint snapshot done", 120_000);
            }
            Thread.sleep(random.nextInt(trial % 2 == 0 ? 2500 : 1200));
            miner.kill();
            String log = miner.log();
            List<Long> resumed = NeuronProcess.all(log, "resumed from checkpoint .*: global_step (\\d+)");
            resumes += resumed.isEmpty() ? 0 : 1;
            if (lastCommitted >= 0 && !resumed.isEmpty()) {
                assertTrue(resumed.get(0) >= lastCommitted, "trial " + trial + " resumed at " + resumed.get(0)
                        + " but step " + lastCommitted + " had been committed:\n" + log);
            }
            if (lastScheduled >= 0 && !resumed.isEmpty()) {
                assertTrue(resumed.get(0) >= lastScheduled - 1, "trial " + trial + " resumed at " + resumed.get(0)
                        + " but step " + lastScheduled + " had been reached:\n" + log);
            }
            List<Long> scheduled = NeuronProcess.all(log, "checkpoint scheduled: step (\\d+)");
            if (!scheduled.isEmpty()) {
                lastScheduled = scheduled.get(scheduled.size() - 1);
            }
            List<Long> committed = NeuronProcess.all(log, "snapshot done: step (\\d+)");
            List<Long> persisted = NeuronProcess.all(log, "checkpoint persisted.*: step (\\d+)");
            if (!committed.isEmpty()) {
                lastCommitted = committed.get(committed.size() - 1);
                if (persisted.isEmpty() || persisted.get(persisted.size() - 1) < lastCommitted) {
                    killedWithAPersistInFlight++;
                }
            }
            if (Files.exists(ckpt)) {
                long onDisk = CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress);
                assertTrue(onDisk >= lastOnDisk, "trial " + trial + ": the checkpoint went back from " + lastOnDisk
                        + " to " + onDisk);
                lastOnDisk = onDisk;
                Path copy = dir.resolve("after-kill-" + trial + ".pth");
                Files.copy(ckpt, copy, StandardCopyOption.REPLACE_EXISTING);
                leftBehind.add(copy);
                stepsOnDisk.add(onDisk);
            }
        }
        assertTrue(lastOnDisk > 0, "the miners checkpointed at all");
        assertTrue(resumes > 0, "restarts resumed from a checkpoint (the log line the checks above read)");
        assertTrue(killedWithAPersistInFlight > 0, "some kills hit a snapshot that was committed but not persisted");

        PythonTorch.assumeAvailable();
        String script = CheckpointScripts.LOAD + """
                for path in sys.argv[1:]:
                    ck = load(path)
                    assert set(ck) >= {'global_step', 'model_state_dict', 'optimizer_state_dict', 'scheduler_state_dict'}
                    print(ck['global_step'])
                """;
        String out = PythonTorch.run(script, leftBehind.stream().map(Path::toString).toArray(String[]::new));
        List<Long> fromPython = out.lines().map(String::trim).map(Long::parseLong).toList();
        assertEquals(stepsOnDisk, fromPython, "PyTorch reads every file the kills left, with the same global_step");
    }
}
