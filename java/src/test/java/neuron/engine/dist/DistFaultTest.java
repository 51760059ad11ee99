package neuron.engine.dist;

import neuron.engine.testing.Deadline;
import neuron.engine.testing.NeuronProcess;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.concurrent.TimeUnit;

import static neuron.engine.dist.GroupRuns.start;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A rank SIGKILLed in the middle of persisting its shard: the other ranks stop by themselves with one line that
 * names it and the newest complete step; the steps it did not report have no manifest; a restart of the group
 * resumes at the newest complete step, never at a newer partial one, and a SIGTERM to its launcher stops every rank
 * after the same step, which is then complete.
 */
@Slow
@Timeout(value = 20, unit = TimeUnit.MINUTES) // two groups of processes, each given 5 minutes
class DistFaultTest {
    @TempDir
    Path dir;

    @Test
    void aRankKilledMidPersistLeavesNoCompleteStepAndTheGroupResumesAtTheNewestComplete() throws Exception {
        Path run = dir.resolve("run");
        NeuronProcess group = start(run, "--nproc", "3", "--max_steps", "100000");
        assertNotNull(group.awaitLog("checkpoint step 4 complete", 300_000), group.log());
        Matcher pid = group.awaitLog("rank 1 of 3 \\(pid (\\d+)\\) joined", 1_000);
        assertNotNull(pid, group.log());

        // From now on rank 1's persists hang inside open(2) of its temporary file (a FIFO with no reader): the
        // next one it starts never ends, while ranks 0 and 2 go on persisting theirs.
        Path shards = run.resolve("m.pth.shards");
        Path fifo = shards.resolve("rank-1-of-3.pth.tmp");
        Deadline fifoMade = Deadline.in(Duration.ofMinutes(2));
        while (!mkfifo(fifo)) {
            fifoMade.check(() -> "a FIFO in place of rank 1's temporary file " + fifo + "\n" + group.log());
            Thread.sleep(5);   // a persist of rank 1 has the file open right now; the next one finds the FIFO
        }
        int persistedBefore = NeuronProcess.all(group.log(), "\\[rank 0\\].*checkpoint persisted: step (\\d+)").size();
        Deadline twoMore = Deadline.in(Duration.ofMinutes(5));
        while (NeuronProcess.all(group.log(), "\\[rank 0\\].*checkpoint persisted: step (\\d+)").size()
                < persistedBefore + 2) {
            assertTrue(group.process().isAlive(), group.log());
            twoMore.check(() -> "two more persists of rank 0 while rank 1 hangs\n" + group.log());
            Thread.sleep(20);
        }
        ProcessHandle.of(Long.parseLong(pid.group(1))).orElseThrow().destroyForcibly();

        assertNotEquals(0, group.await(300), "the group stops with a failure");
        String log = group.log();
        List<Long> complete = completeSteps(shards);
        long newest = complete.get(complete.size() - 1);
        for (int survivor : new int[]{0, 2}) {
            Matcher line = java.util.regex.Pattern.compile("\\[rank " + survivor + "] .*rank " + survivor
                    + " of 3 stops: rank 1 of 3 is gone \\(pid " + pid.group(1) + " was killed by signal 9\\).*the newest complete checkpoint is "
                    + "global_step (\\d+) in .*; start the whole group again to resume there").matcher(log);
            assertTrue(line.find(), "rank " + survivor + " names the lost rank:\n" + log);
            assertEquals(newest, Long.parseLong(line.group(1)), log);
        }
        long partial = 0;
        try (var steps = Files.list(shards)) {
            for (Path step : steps.filter(Files::isDirectory).toList()) {
                boolean rank1 = Files.exists(step.resolve("rank-1-of-3.pth"));
                boolean manifest = Files.exists(step.resolve(ShardManifest.FILE));
                assertTrue(rank1 || !manifest, step + " has a manifest without rank 1's shard");
                if (!rank1) {
                    partial = Math.max(partial, Long.parseLong(step.getFileName().toString().substring(5)));
                }
            }
        }
        assertTrue(partial > newest, "the killed rank left a newer, partial step: " + partial + " > " + newest);
        assertNull(new ShardLayout(run.resolve("m.pth")).complete(partial).orElse(null));

        // What a persist cut short leaves in a real crash: a half-written temporary file, in place of the FIFO
        Files.delete(fifo);
        Files.write(fifo, new byte[]{'P', 'K', 3, 4});
        NeuronProcess restart = start(run, "--nproc", "3", "--max_steps", "100000");
        assertNotNull(restart.awaitLog("checkpoint step " + (newest + 4) + " complete", 300_000), restart.log());
        restart.process().destroy();   // SIGTERM to the launcher, which passes it on to every rank
        assertEquals(143, restart.await(600), "stopped by SIGTERM once every rank stopped: " + restart.log());
        String again = restart.log();
        assertTrue(again.contains("rank 0 of 3 resumed at global_step " + newest + " from "), again);
        List<Long> stops = NeuronProcess.all(again, "miner stopping at global_step (\\d+)");
        assertEquals(3, stops.size(), again);
        assertEquals(1, stops.stream().distinct().count(), "every rank stops after the same step: " + stops);
        assertTrue(again.contains("group of 3 stopped at global_step " + stops.get(0)
                + "; the newest complete checkpoint is global_step " + stops.get(0)), again);
        assertFalse(Files.exists(fifo), "the restart removed the cut persist's file");
    }

    private static boolean mkfifo(Path path) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("mkfifo", path.toString()).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor() == 0;
    }

    private static List<Long> completeSteps(Path shards) throws IOException {
        try (var steps = Files.list(shards)) {
            return steps.filter(s -> Files.exists(s.resolve(ShardManifest.FILE)))
                    .map(s -> Long.parseLong(s.getFileName().toString().substring(5))).sorted().toList();
        }
    }
}
