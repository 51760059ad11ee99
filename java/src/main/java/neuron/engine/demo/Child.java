package neuron.engine.demo;

import neuron.engine.api.JvmCommand;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code neuron} subcommand of the demo in a JVM of its own (the engine's command, with light JVM flags), its
 * output appended to one log file across restarts. Remembers where each start begins in the log, so facts are
 * read per run.
 */
final class Child {
    /** Light JVMs: four of them share two cores. */
    private static final List<String> LIGHT_JVM = List.of("-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
    private static final Duration POLL = Duration.ofMillis(100);

    private final String name;
    private final Path workDir;
    private final Path log;
    private final JvmCommand engine;
    private final List<String> args;
    private final List<Long> runStarts = new ArrayList<>();
    private volatile Process process;  // read by the cleanup hook too
    private volatile boolean stopExpected;

    Child(String name, Path workDir, JvmCommand engine, List<String> args) {
        this.name = name;
        this.workDir = workDir;
        this.log = workDir.resolve(name + ".log");
        this.engine = engine.withJvmArgs(LIGHT_JVM);
        this.args = List.copyOf(args);
    }

    String name() {
        return name;
    }

    Path log() {
        return log;
    }

    /** Starts (or restarts, with the same flags) the process. */
    void start() {
        try {
            runStarts.add(Files.exists(log) ? Files.size(log) : 0L);
            stopExpected = false;
            process = new ProcessBuilder(engine.line(args)).directory(workDir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        } catch (IOException e) {
            throw new DemoFailure(name + " could not be started: " + e.getMessage() + " (log: " + log + ")");
        }
    }

    /** How many times it was started. */
    int runs() {
        return runStarts.size();
    }

    /** SIGKILL, as a crash would; waits until it is gone. */
    void kill() throws InterruptedException {
        stopExpected = true;
        process.destroyForcibly();
        process.waitFor();
    }

    /** Asks for a graceful stop (SIGTERM); call {@link #awaitExit} after. */
    void terminate() {
        stopExpected = true;
        if (process != null) {
            process.destroy();
        }
    }

    /** Waits for the exit after {@link #terminate}; SIGKILLs it if it takes longer than {@code patience}. */
    boolean awaitExit(Duration patience) throws InterruptedException {
        if (process == null || process.waitFor(patience.toMillis(), TimeUnit.MILLISECONDS)) {
            return true;
        }
        process.destroyForcibly().waitFor();
        return false;
    }

    boolean running() {
        return process != null && process.isAlive();
    }

    /** Fails the demo if the process has ended without being asked to. */
    void checkAlive() {
        if (!stopExpected && process != null && !process.isAlive()) {
            throw new DemoFailure(name + " exited unexpectedly (status " + process.exitValue() + "); its log: " + log);
        }
    }

    /** The log text of run {@code run} (1-based) up to now or to the next start. */
    String logOfRun(int run) {
        byte[] all = logBytes();
        int from = (int) Math.min(all.length, runStarts.get(run - 1));
        int to = run < runStarts.size() ? (int) Math.min(all.length, runStarts.get(run)) : all.length;
        return new String(all, from, to - from, StandardCharsets.UTF_8);
    }

    /** The whole log, every run. */
    String wholeLog() {
        return new String(logBytes(), StandardCharsets.UTF_8);
    }

    private byte[] logBytes() {
        try {
            return Files.exists(log) ? Files.readAllBytes(log) : new byte[0];
        } catch (IOException e) {
            throw new DemoFailure("cannot read " + log + ": " + e.getMessage());
        }
    }

    /** Waits until the current run's log matches {@code regex}; fails the demo if the process dies or time runs out. */
    Matcher await(String regex, Duration timeout, String what) throws InterruptedException {
        Pattern pattern = Pattern.compile(regex);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Matcher m = pattern.matcher(logOfRun(runs()));
            if (m.find()) {
                return m;
            }
            checkAlive();
            if (System.nanoTime() > deadline) {
                throw new DemoFailure(name + " did not " + what + " within " + timeout.toSeconds() + " s; its log: "
                        + log);
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    /** The current run's log matches {@code regex}. */
    boolean has(String regex) {
        return Pattern.compile(regex).matcher(logOfRun(runs())).find();
    }
}
