package neuron.engine.testing;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * chopsticks running Rococo Asset Hub's runtime offline from its raw chain spec, on a free port of 127.0.0.1, making
 * blocks only when asked ({@code dev_newBlock}). Skips (or, in CI, fails) the test when Node.js or the packages are
 * missing.
 */
public final class Chopsticks implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("ws://127\\.0\\.0\\.1:(\\d+)");

    private final Process process;
    private final Path log;
    private final URI uri;

    private Chopsticks(Process process, Path log, URI uri) {
        this.process = process;
        this.log = log;
        this.uri = uri;
    }

    /** Writes the chain spec and chopsticks' log into {@code dir} and waits (up to 2 minutes) for it to listen. */
    public static Chopsticks start(Path dir) throws Exception {
        NodeScripts.assumeInstalled();
        Path spec = dir.resolve("asset-hub-rococo.json");
        NodeScripts.run(Duration.ofSeconds(60), "", "chain-spec.mjs", spec.toString());
        Path log = dir.resolve("chopsticks.log");
        Process process = NodeScripts.start(log, "node_modules/@acala-network/chopsticks/chopsticks.cjs",
                "--genesis", spec.toString(), "--host", "127.0.0.1", "--port", "0", "--build-block-mode", "Manual");
        try {
            return new Chopsticks(process, log, URI.create("ws://127.0.0.1:" + awaitPort(process, log)));
        } catch (Exception | AssertionError e) {
            process.destroy();
            throw e;
        }
    }

    public URI uri() {
        return uri;
    }

    public String log() throws Exception {
        return Files.readString(log);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    private static int awaitPort(Process chopsticks, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline && chopsticks.isAlive()) {
            Matcher listening = LISTENING.matcher(Files.exists(log) ? Files.readString(log) : "");
            if (listening.find()) {
                return Integer.parseInt(listening.group(1));
            }
            Thread.sleep(100);
        }
        throw new AssertionError("chopsticks did not start: " + Files.readString(log));
    }
}
