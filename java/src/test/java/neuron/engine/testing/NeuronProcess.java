package neuron.engine.testing;

import neuron.engine.cli.Main;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A {@code bin/neuron} command in a JVM of its own, so tests can SIGKILL or SIGTERM it. */
public final class NeuronProcess {
    private final Process process;
    private final Path log;

    private NeuronProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    public static NeuronProcess start(Path workDir, Path log, String... args) throws IOException {
        return start(workDir, log, Map.of(), args);
    }

    /** As {@link #start(Path, Path, String...)}, with {@code env} added to the child's environment. */
    public static NeuronProcess start(Path workDir, Path log, Map<String, String> env, String... args)
            throws IOException {
        Files.deleteIfExists(log);
        List<String> cmd = ChildJvm.command(List.of("-Xmx1g"), Main.class, args);
        return new NeuronProcess(ChildJvm.start(cmd, workDir.toFile(), log.toFile(), env), log);
    }

    public Process process() {
        return process;
    }

    public String log() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /** Waits until the log matches {@code regex} (returns the match) or the process ends (returns null). */
    public Matcher awaitLog(String regex, long timeoutMillis) throws IOException, InterruptedException {
        Pattern p = Pattern.compile(regex);
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline) {
            Matcher m = p.matcher(log());
            if (m.find()) {
                return m;
            }
            if (!process.isAlive()) {
                m = p.matcher(log());
                return m.find() ? m : null;
            }
            Thread.sleep(20);
        }
        return null;
    }

    /** SIGKILL, and wait for it. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(60, TimeUnit.SECONDS);
    }

    /** Waits for a normal exit; returns the exit status. */
    public int await(long timeoutSeconds) throws InterruptedException, IOException {
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("process did not finish in " + timeoutSeconds + " s:\n" + log());
        }
        return process.exitValue();
    }

    /** Every value of group 1 of {@code regex} in the log, as longs. */
    public static List<Long> all(String log, String regex) {
        Matcher m = Pattern.compile(regex).matcher(log);
        List<Long> out = new java.util.ArrayList<>();
        while (m.find()) {
            out.add(Long.parseLong(m.group(1)));
        }
        return out;
    }
}
