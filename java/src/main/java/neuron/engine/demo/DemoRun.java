package neuron.engine.demo;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The demo from start to end: a chain, two miners and a validator as separate processes; one miner and the
 * validator are SIGKILLed mid-run and restarted with the same flags; the demo shows from their logs and
 * checkpoint files that each resumed where its last checkpoint left it, then stops everything gracefully,
 * prints a summary table and draws the run.
 */
public final class DemoRun {
    /** JVM start and LibTorch load on a busy two-core machine. */
    private static final Duration START_PATIENCE = Duration.ofSeconds(90);
    private static final Duration STOP_PATIENCE = Duration.ofSeconds(60);
    private static final long POLL_MILLIS = 100;
    /** Where in the run the crash comes, as a share of the duration. */
    private static final double KILL_AT = 0.4;
    private static final String MINER_STARTED = "miner (?:starting at|resumed from)";

    /**
     * @param durationSeconds from the start of the miners to the graceful stop
     */
    public record Settings(Path out, int durationSeconds, long blockTimeMs, long minerCheckpointInterval,
                           long validatorCheckpointInterval) {
        public Settings {
            if (durationSeconds < 10 || blockTimeMs < 50 || minerCheckpointInterval < 1
                    || validatorCheckpointInterval < 1) {
                throw new IllegalArgumentException("--duration_s must be >= 10, --block_time_ms >= 50, "
                        + "checkpoint intervals >= 1");
            }
        }
    }

    private final Settings settings;
    private final Narrator narrator;
    private final List<Child> children = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();

    private DemoRun(Settings settings, PrintWriter out) {
        this.settings = settings;
        this.narrator = new Narrator(out);
    }

    /** Runs the demo; 0 when every process resumed as it should, 1 otherwise. Throws DemoFailure when it cannot go on. */
    public static int run(Settings settings, PrintWriter out) throws IOException, InterruptedException {
        return new DemoRun(settings, out).run();
    }

    private int run() throws IOException, InterruptedException {
        Path dir = settings.out().toAbsolutePath();
        Files.createDirectories(dir);
        Thread cleanup = new Thread(this::stopAll, "demo-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            narrator.say("neuron demo: a chain, two miners and a validator, each a process of its own; all output in "
                    + dir);
            Child chain = start(new Child("chain", dir, List.of("chain", "--port", "0", "--block_time_ms",
                    Long.toString(settings.blockTimeMs()))));
            String uri = chain.await(LogFacts.SERVING, START_PATIENCE, "serve the chain").group(1);
            narrator.say("chain: serving " + uri + ", a block every " + settings.blockTimeMs() + " ms");
            Roles roles = new Roles(dir, uri, settings);
            Child miner1 = start(roles.miner(1));
            Child miner2 = start(roles.miner(2));
            Child validator = start(roles.validator());
            for (Child miner : List.of(miner1, miner2)) {
                miner.await(MINER_STARTED, START_PATIENCE, "start training");
            }
            validator.await(LogFacts.VALIDATOR_STARTED, START_PATIENCE, "start following the chain");
            narrator.say("miner-1 (uid 1) and miner-2 (uid 2) are training and publishing an update every window; "
                    + "the validator scores them. Logs: " + logNames());
            long start = System.nanoTime();
            long killAt = start + (long) (KILL_AT * settings.durationSeconds() * 1e9);
            waitUntil(() -> System.nanoTime() >= killAt && miner1.has(LogFacts.PERSISTED)
                            && roles.validatorCheckpointHasScores(),
                    Duration.ofSeconds(settings.durationSeconds()).plus(START_PATIENCE),
                    "a checkpoint of miner-1 and a checkpoint of the validator with scores");
            Crash crash = Crash.of(roles, miner1, validator, narrator);
            Thread.sleep(3 * settings.blockTimeMs());  // the chain moves on while they are down
            narrator.say("restarting miner-1 and the validator with the same flags (no resume flag: they find their "
                    + "checkpoints by themselves)");
            miner1.start();
            validator.start();
            problems.addAll(crash.showResume(roles, miner1, validator, START_PATIENCE));
            long end = start + settings.durationSeconds() * 1_000_000_000L;
            waitUntil(() -> System.nanoTime() >= end, Duration.ofSeconds(settings.durationSeconds()).plus(START_PATIENCE),
                    "the end of the run");
            narrator.say("stopping everything gracefully (SIGTERM): each miner and the validator take a final "
                    + "checkpoint and wait until it is on disk");
            stopGracefully(List.of(miner1, miner2, validator), true);
            stopGracefully(List.of(chain), false);
            Report report = Report.of(roles, crash, chain, miner1, miner2, validator);
            report.write(dir, narrator);
            if (!problems.isEmpty()) {
                narrator.say("NOT AS EXPECTED: " + String.join("; ", problems));
            }
            narrator.say("done: everything is in " + dir);
            Files.write(dir.resolve("narration.txt"), narrator.lines());
            return problems.isEmpty() ? 0 : 1;
        } catch (DemoFailure e) {
            narrator.say("demo failed: " + e.getMessage() + "; stopping the other processes");
            throw e;
        } finally {
            stopAll();
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or has run
            }
        }
    }

    private Child start(Child child) {
        children.add(child);
        child.start();
        return child;
    }

    private String logNames() {
        return String.join(", ", children.stream().map(c -> c.log().getFileName().toString()).toList());
    }

    /** Polls {@code condition} while checking that every process is alive. */
    private void waitUntil(BooleanSupplier condition, Duration limit, String what) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            children.forEach(Child::checkAlive);
            if (System.nanoTime() > deadline) {
                throw new DemoFailure("waited " + limit.toSeconds() + " s for " + what + "; see the logs: " + logNames());
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    /** SIGTERM and wait; a miner or validator must end its log with its final checkpoint on disk. */
    private void stopGracefully(List<Child> group, boolean checkpointing) throws InterruptedException {
        group.forEach(Child::terminate);
        for (Child child : group) {
            if (!child.awaitExit(STOP_PATIENCE)) {
                problems.add(child.name() + " did not stop within " + STOP_PATIENCE.toSeconds() + " s and was killed");
            } else if (checkpointing && !child.has(LogFacts.STOPPED_ON_DISK)) {
                problems.add(child.name() + " stopped without saying its final checkpoint is on disk; see "
                        + child.log());
            }
        }
    }

    /** Cleanup on every path out, and on Ctrl-C: SIGTERM whatever still runs, SIGKILL what does not stop. */
    private void stopAll() {
        try {
            List<Child> running = children.stream().filter(Child::running).toList();
            running.forEach(Child::terminate);
            for (Child child : running) {
                child.awaitExit(STOP_PATIENCE);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
