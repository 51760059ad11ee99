package neuron.engine.checkpoint;

import neuron.engine.testing.ChildJvm;
import neuron.engine.testing.NeuronProcess;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One process per checkpoint and per staging directory: a second is refused at start-up (exit status 2, one line
 * naming the holder's PID), and a holder killed with SIGKILL leaves no stale lock.
 */
@Slow
class CheckpointLockTest {
    @TempDir
    Path dir;

    private Checkpointer open(Path ckpt, Path staging) throws Exception {
        return Checkpointer.open(new CheckpointConfig(ckpt, 2, staging), new CheckpointPolicy(1), 1 << 20,
                "global_step", CheckpointListener.NONE);
    }

    @Test
    void aSecondProcessIsRefusedNamingTheHolderAndASigkilledHolderLeavesNoStaleLock() throws Exception {
        Path ckpt = dir.resolve("m.pth");
        Path staging = dir.resolve("staging");
        Path log = dir.resolve("holder.log");
        Process holder = ChildJvm.start(ChildJvm.command(List.of("-Xmx128m"), HoldCheckpoint.class, ckpt.toString(),
                staging.toString()), dir.toFile(), log.toFile());
        try {
            awaitHolding(holder, log);
            long pid = holder.pid();
            UnusablePathException sameCheckpoint = assertThrows(UnusablePathException.class,
                    () -> open(ckpt, dir.resolve("other-staging")));
            assertEquals("checkpoint " + ckpt + " is in use by process " + pid + " (it holds the lock on " + ckpt
                    + ".lock); stop it, or give this one another --checkpoint_path", sameCheckpoint.getMessage());
            UnusablePathException sameStaging = assertThrows(UnusablePathException.class,
                    () -> open(dir.resolve("other.pth"), staging));
            assertTrue(sameStaging.getMessage().startsWith("staging directory " + staging + " is in use by process "
                    + pid), sameStaging.getMessage());
            assertEquals(-1, ProcessLock.holder(dir.resolve("other.pth.lock")), "a refused start holds nothing");

            // The same through the command line: a miner on the held checkpoint exits 2 with one line.
            NeuronProcess second = NeuronProcess.start(dir, dir.resolve("second.log"), "miner", "--checkpoint_path",
                    ckpt.toString(), "--staging_dir", dir.resolve("other-staging").toString(), "--max_steps", "1");
            assertEquals(2, second.await(300), second.log());
            List<String> refusal = second.log().lines().filter(l -> l.startsWith("neuron miner: ")).toList();
            assertEquals(List.of("neuron miner: checkpoint " + ckpt + " is in use by process " + pid
                    + " (it holds the lock on " + ckpt + ".lock); stop it, or give this one another --checkpoint_path"),
                    refusal, second.log());
        } finally {
            holder.destroyForcibly();   // SIGKILL: no clean-up of any kind
            holder.waitFor(60, TimeUnit.SECONDS);
        }
        try (Checkpointer after = open(ckpt, staging)) {
            assertEquals(ProcessHandle.current().pid(), ProcessLock.holder(ckpt.resolveSibling("m.pth.lock")),
                    "the kernel released the killed holder's lock; this process holds it now");
        }
        assertEquals(-1, ProcessLock.holder(ckpt.resolveSibling("m.pth.lock")), "released by close");
    }

    @Test
    void aSecondCheckpointerInOneProcessIsRefusedAndTheFirstKeepsItsLock() throws Exception {
        Path ckpt = dir.resolve("v.pth");
        try (Checkpointer first = open(ckpt, dir.resolve("staging"))) {
            UnusablePathException again = assertThrows(UnusablePathException.class,
                    () -> open(ckpt, dir.resolve("staging-2")));
            assertTrue(again.getMessage().contains("in use by this process (PID " + ProcessHandle.current().pid()),
                    again.getMessage());
            UnusablePathException viaLink = assertThrows(UnusablePathException.class, () -> open(
                    Files.createSymbolicLink(dir.resolve("link"), dir).resolve("v.pth"), dir.resolve("staging-3")));
            assertTrue(viaLink.getMessage().contains("in use by this process"), viaLink.getMessage());
            assertEquals(ProcessHandle.current().pid(), ProcessLock.holder(dir.resolve("v.pth.lock")),
                    "the refused attempts did not drop the kernel's lock");
        }
        try (Checkpointer reopened = open(ckpt, dir.resolve("staging"))) {
            assertEquals(ckpt, reopened.path());
        }
    }

    private static void awaitHolding(Process holder, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains("holding ")) {
                return;
            }
            if (!holder.isAlive()) {
                break;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the holder did not start:\n" + (Files.exists(log) ? Files.readString(log) : ""));
    }
}
