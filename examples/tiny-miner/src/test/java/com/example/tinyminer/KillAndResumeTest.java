package com.example.tinyminer;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The packaged miner ({@code java -jar target/tiny-miner.jar}, no JVM flags on the command line) is killed at
 * random moments and restarted until it reaches its last step; every step's loss and the final checkpoint are
 * bit-identical to an uninterrupted run's, and PyTorch loads the checkpoint into its own modules, optimizer and
 * scheduler and saves it back in a form the miner resumes from, again to the same final checkpoint.
 */
@Tag("slow")
@Timeout(value = 30, unit = TimeUnit.MINUTES) // each restart may wait PATIENCE_MILLIS
class KillAndResumeTest {
    private static final long STEPS = 80;
    private static final long INTERVAL = 10;
    private static final long PATIENCE_MILLIS = 10 * 60_000;
    private static final Pattern STEP = Pattern.compile("(?m)^step (\\d+) loss (\\p{XDigit}+)$");
    private static final Pattern RESUMED = Pattern.compile("(?m)^resumed at step (\\d+) from ");
    private static final Pattern PERSISTED = Pattern.compile("checkpoint persisted: step (\\d+)");
    private static final Pattern STOPPED = Pattern.compile("(?m)^stopped at step (\\d+);");
    private static final Pattern STARTED = Pattern.compile("(?m)^(resumed at step \\d+|step 1 )");

    @TempDir
    Path dir;

    /** One start of the miner on {@code checkpoint}, its output in a log of its own. */
    private final class Miner {
        final Process process;
        final Path log;

        Miner(Path checkpoint, int run) throws IOException {
            log = checkpoint.resolveSibling("run-" + run + ".log");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            process = new ProcessBuilder(java, "-Xmx256m", "-jar", System.getProperty("tinyminer.jar"),
                    checkpoint.toString(), Long.toString(STEPS), Long.toString(INTERVAL),
                    checkpoint.resolveSibling("staging").toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        }

        String log() throws IOException {
            return Files.readString(log);
        }

        /** Waits until the log matches {@code pattern} or the miner ends; returns the last match, or null. */
        MatchResult await(Pattern pattern) throws IOException, InterruptedException {
            long deadline = System.currentTimeMillis() + PATIENCE_MILLIS;
            while (System.currentTimeMillis() < deadline) {
                boolean ended = !process.isAlive();
                MatchResult m = last(pattern, log());
                if (m != null || ended) {
                    return m;
                }
                Thread.sleep(5);
            }
            throw new AssertionError("no " + pattern + " within " + PATIENCE_MILLIS + " ms:\n" + log());
        }

        int exit() throws InterruptedException, IOException {
            if (!process.waitFor(PATIENCE_MILLIS, TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                fail("the miner did not finish:\n" + log());
            }
            return process.exitValue();
        }
    }

    private static MatchResult last(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        MatchResult found = null;
        while (m.find()) {
            found = m.toMatchResult();
        }
        return found;
    }

    private static long lastValue(Pattern pattern, String text, long none) {
        MatchResult m = last(pattern, text);
        return m == null ? none : Long.parseLong(m.group(1));
    }

    private static Map<Long, String> losses(String log) {
        Map<Long, String> out = new TreeMap<>();
        Matcher m = STEP.matcher(log);
        while (m.find()) {
            out.put(Long.parseLong(m.group(1)), m.group(2));
        }
        return out;
    }

    @Test
    void killedAtRandomMomentsItResumesBitExactlyAndPyTorchLoadsItsCheckpoint() throws Exception {
        requirePyTorch();
        long seed = Long.getLong("tinyminer.seed", System.nanoTime());
        Random random = new Random(seed);
        String why = " (random seed " + seed + ", -Dtinyminer.seed=" + seed + " repeats it)";

        // Each run's checkpoint has the same name in a folder of its own: equal states make equal files.
        Path reference = checkpointIn("straight");
        Miner straight = new Miner(reference, 0);
        long started = System.nanoTime();
        assertTrue(straight.await(STEP) != null, straight.log());
        long startUpNanos = System.nanoTime() - started;
        assertEquals(0, straight.exit(), straight.log());
        Map<Long, String> expected = losses(straight.log());
        assertEquals(STEPS, expected.size(), straight.log());

        // SIGKILL during start-up, SIGKILL while training, SIGTERM while training, SIGKILL again, then to the end.
        Path checkpoint = checkpointIn("killed");
        Ended previous = null;
        for (int run = 0; ; run++) {
            Miner miner = new Miner(checkpoint, run);
            Stop stop = run == 0 ? Stop.KILL_AT_START_UP : run == 2 ? Stop.TERM : run < 4 ? Stop.KILL : Stop.NONE;
            long at = 0;
            if (stop == Stop.KILL_AT_START_UP) {
                Thread.sleep(random.nextLong(Math.max(1, startUpNanos / 1_000_000)));
                miner.process.destroyForcibly();
            } else {
                assertTrue(miner.await(STARTED) != null, miner.log());
                at = lastValue(RESUMED, miner.log(), 0);
                if (previous != null) {
                    previous.checkResumedAt(at, why);
                }
                // far enough on that this run takes a checkpoint of its own before it is stopped
                long target = Math.min(STEPS - 1, at + INTERVAL + 1 + random.nextLong(2 * INTERVAL));
                if (stop != Stop.NONE && at < target) {
                    assertTrue(miner.await(Pattern.compile("(?m)^step " + target + " ")) != null, miner.log());
                    if (stop == Stop.TERM) {
                        miner.process.destroy();
                    } else {
                        miner.process.destroyForcibly();
                    }
                } else {
                    stop = Stop.NONE;
                }
            }
            int exit = miner.exit();
            String log = miner.log();
            long resumedAt = at;
            System.out.printf("run %d: resumed at %d, %s after step %d (persisted up to %d), exit %d%n", run, at,
                    stop, lastValue(STEP, log, 0), lastValue(PERSISTED, log, 0), exit);
            losses(log).forEach((step, loss) -> assertEquals(expected.get(step), loss,
                    "loss of step " + step + " after resuming at " + resumedAt + why));
            if (stop == Stop.NONE) {
                assertEquals(0, exit, log);
                assertEquals(STEPS, lastValue(STOPPED, log, -1), log);
                break;
            }
            previous = new Ended(stop, exit, at, lastValue(PERSISTED, log, 0), lastValue(STEP, log, 0),
                    lastValue(STOPPED, log, -1), log);
        }
        assertEquals(-1, Files.mismatch(reference, checkpoint), "the killed run's final checkpoint is the "
                + "uninterrupted run's, byte for byte" + why);

        // PyTorch: its own modules load a checkpoint and save it back; the miner resumes from that file.
        Path fromPyTorch = checkpointIn("pytorch");
        String resaved = python("resave_in_pytorch.py", reference.resolveSibling(reference.getFileName() + ".1"),
                fromPyTorch);
        assertTrue(resaved.contains("resaved global_step"), resaved);
        Miner resumed = new Miner(fromPyTorch, 0);
        assertEquals(0, resumed.exit(), resumed.log());
        assertTrue(lastValue(RESUMED, resumed.log(), -1) > 0, resumed.log());
        losses(resumed.log()).forEach((step, loss) -> assertEquals(expected.get(step), loss, "step " + step));
        assertEquals(-1, Files.mismatch(reference, fromPyTorch), "resumed from PyTorch's file, the miner ends "
                + "where the uninterrupted run did, byte for byte");
    }

    private Path checkpointIn(String folder) throws IOException {
        return Files.createDirectories(dir.resolve(folder)).resolve("miner.pth");
    }

    private enum Stop { KILL_AT_START_UP, KILL, TERM, NONE }

    /** How a run ended, and what the next run's resume point must therefore be. */
    private record Ended(Stop stop, int exit, long resumedAt, long persisted, long lastStep, long stoppedAt,
                         String log) {
        void checkResumedAt(long at, String why) {
            if (stop == Stop.TERM) {
                assertEquals(143, exit, "exits after its final checkpoint on SIGTERM: " + log);
                assertEquals(stoppedAt, at, "resumes exactly where SIGTERM stopped it" + why + "\n" + log);
                return;
            }
            assertTrue(at >= persisted, "resumed at " + at + " though step " + persisted + " was persisted" + why
                    + "\n" + log);
            assertTrue(at <= Math.max(resumedAt, lastStep + 1), "resumed at " + at + " past the last step run, "
                    + lastStep + why);
            if (stop == Stop.KILL) {
                assertTrue(at > resumedAt, "the killed run checkpointed at least once after resuming at "
                        + resumedAt + ", and the restart resumed from that: at " + at + why + "\n" + log);
            }
        }
    }

    // ---------------------------------------------------------------- PyTorch

    private static final String PYTHON = System.getProperty("tinyminer.python", "/usr/bin/python3");

    /** Skips where PyTorch is missing, except where NEURON_REQUIRE_TOOLS=1 (CI), which fails instead. */
    private static void requirePyTorch() throws Exception {
        Process p = new ProcessBuilder(PYTHON, "-c", "import torch").redirectErrorStream(true).start();
        if (p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0) {
            return;
        }
        String missing = PYTHON + " cannot import torch (install python3-torch)";
        if ("1".equals(System.getenv("NEURON_REQUIRE_TOOLS"))) {
            fail(missing);
        }
        throw new TestAbortedException(missing);
    }

    private String python(String script, Path... args) throws Exception {
        Path file = dir.resolve(script);
        try (InputStream in = KillAndResumeTest.class.getResourceAsStream("/" + script)) {
            Files.copy(in, file);
        }
        List<String> cmd = new ArrayList<>(List.of(PYTHON, file.toString()));
        for (Path a : args) {
            cmd.add(a.toString());
        }
        Path out = dir.resolve(script + ".out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertTrue(p.waitFor(PATIENCE_MILLIS, TimeUnit.MILLISECONDS), "python " + script + " finished");
        String text = Files.readString(out);
        assertEquals(0, p.exitValue(), text);
        assertFalse(text.isBlank());
        return text;
    }
}
