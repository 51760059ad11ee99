package neuron.engine.demo;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import neuron.engine.api.JvmCommand;
import neuron.engine.checkpoint.UsageException;
import neuron.engine.network.WindowSchedule;

/**
 * The demo from start to end: a chain, three miners (honest, lazy, noisy) and a validator as separate processes,
 * one network: every window the miners start from the same base model, the validator scores their updates and
 * moves the base by the accepted ones. The honest miner and the validator are SIGKILLed mid-run and restarted
 * with the same flags; the demo shows from their logs and checkpoint files that each resumed where its last
 * checkpoint left it (the validator replaying its journal, the miner back in sync), then stops everything
 * gracefully, reads the weights back from the chain, prints a summary table and draws the run.
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
     * @param out             the output folder; null for a new one in the system's temporary directory (never the
     *                        working directory: run from a checkout, the demo would leave its folder in it)
     * @param durationSeconds from the start of the miners to the graceful stop
     * @param engine          the JVM that runs a {@code neuron} subcommand
     */
    public record Settings(Path out, int durationSeconds, long blockTimeMs, int blocksPerWindow,
                           long minerCheckpointInterval, long validatorCheckpointInterval, JvmCommand engine) {
        public Settings {
            if (durationSeconds < 10 || blockTimeMs < 50 || blocksPerWindow < WindowSchedule.MIN_BLOCKS_PER_WINDOW
                    || minerCheckpointInterval < 1 || validatorCheckpointInterval < 1) {
                throw new UsageException("--duration_s must be >= 10, --block_time_ms >= 50, "
                        + "--blocks_per_window >= " + WindowSchedule.MIN_BLOCKS_PER_WINDOW + ", checkpoint intervals >= 1");
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
        Path dir = settings.out() != null ? settings.out().toAbsolutePath()
                : Files.createTempDirectory("neuron-demo-").toAbsolutePath();
        Files.createDirectories(dir);
        Thread cleanup = new Thread(this::stopAll, "demo-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            narrator.say("neuron demo: a chain, three miners and a validator, each a process of its own; all output "
                    + "in " + dir);
            Child chain = start(new Child("chain", dir, settings.engine(), List.of("chain", "--port", "0", "--block_time_ms",
                    Long.toString(settings.blockTimeMs()))));
            String uri = chain.await(LogFacts.SERVING, START_PATIENCE, "serve the chain").group(1);
            narrator.say("chain: serving " + uri + ", a block every " + settings.blockTimeMs() + " ms, a window every "
                    + settings.blocksPerWindow() + " blocks");
            Roles roles = new Roles(dir, uri, settings);
            List<Child> miners = new ArrayList<>();
            for (int uid : Roles.MINERS) {
                miners.add(start(roles.miner(uid)));
            }
            Child miner1 = miners.get(0);
            Child validator = start(roles.validator());
            for (Child miner : miners) {
                miner.await(MINER_STARTED, START_PATIENCE, "start training");
            }
            validator.await(LogFacts.VALIDATOR_STARTED, START_PATIENCE, "start following the chain");
            for (int uid : Roles.MINERS) {
                narrator.say(Roles.minerName(uid) + " (uid " + uid + ", " + Roles.behaviour(uid) + ")");
            }
            narrator.say("every window each miner starts from the network's base model and commits the hash of its "
                    + "update to the chain; the validator (uid " + Roles.VALIDATOR_UID + ") scores the updates, adds "
                    + "the accepted ones to the base a window later and sets its weights on the chain. Logs: "
                    + logNames());
            long start = System.nanoTime();
            long killAt = start + (long) (KILL_AT * settings.durationSeconds() * 1e9);
            waitUntil(() -> System.nanoTime() >= killAt && miner1.has(LogFacts.PERSISTED)
                            && roles.validatorCheckpointHasScores() && roles.validatorJournaledPastItsCheckpoint(),
                    Duration.ofSeconds(settings.durationSeconds()).plus(START_PATIENCE),
                    "a checkpoint of miner-1 and a checkpoint of the validator with scores and blocks after it");
            Crash crash = Crash.of(roles, miner1, validator, narrator);
            // the chain moves on while they are down, for about a window: miner-1 misses one, or two
            Thread.sleep((settings.blocksPerWindow() + 2) * settings.blockTimeMs());
            narrator.say("restarting miner-1 and the validator with the same flags (no resume flag: they find their "
                    + "checkpoints by themselves)");
            miner1.start();
            validator.start();
            problems.addAll(crash.showResume(roles, miner1, validator, START_PATIENCE));
            long end = start + settings.durationSeconds() * 1_000_000_000L;
            // the run goes on past its duration if it must, until the restarted miner's first update is judged
            waitUntil(() -> System.nanoTime() >= end && crash.restartedMinerJudged(miner1, validator),
                    Duration.ofSeconds(settings.durationSeconds()).plus(START_PATIENCE).plus(windows(10)),
                    "the end of the run and the validator's verdict on miner-1's first update after its restart");
            problems.addAll(crash.showMinerInSync(miner1, validator));
            problems.addAll(crash.showMissedWindows(roles, miner1, WindowSchedule.of(settings.blocksPerWindow())));
            narrator.say("stopping the miners and the validator gracefully (SIGTERM): each takes a final checkpoint "
                    + "and waits until it is on disk");
            List<Child> network = new ArrayList<>(miners);
            network.add(validator);
            stopGracefully(network, true);
            Network outcome = Network.of(roles, uri, validator, narrator);
            problems.addAll(outcome.problems());
            stopGracefully(List.of(chain), false);
            Report report = Report.of(roles, crash, outcome, chain, miners, validator);
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

    private Duration windows(int count) {
        return Duration.ofMillis(count * settings.blocksPerWindow() * settings.blockTimeMs());
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
