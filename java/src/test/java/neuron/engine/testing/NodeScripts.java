package neuron.engine.testing;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The Node.js scripts in {@code src/test/node} and the real Substrate software they run (polkadot.js, chopsticks),
 * installed there by {@code npm ci} from the pinned lock file.
 */
public final class NodeScripts {
    public static final Path DIR = Path.of("src", "test", "node").toAbsolutePath();

    private NodeScripts() {
    }

    /** Skips (or, in CI, fails) the calling test unless Node.js and the packages are installed. */
    public static void assumeInstalled() {
        Required.tool(Files.isDirectory(DIR.resolve("node_modules/@polkadot/api"))
                        && Files.isDirectory(DIR.resolve("node_modules/@acala-network/chopsticks")) && nodeRuns(),
                "Node.js and the packages of " + DIR + " (run `npm ci --ignore-scripts` there)");
    }

    /** Starts {@code node script args…} in {@link #DIR}, its output (both streams) going to {@code log}. */
    public static Process start(Path log, String script, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("node", script));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).directory(DIR.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /** Runs a script to its end with {@code stdin} as input; returns its standard output (exit 0 asserted). */
    public static String run(Duration timeout, String stdin, String script, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("node", script));
        command.addAll(List.of(args));
        File err = File.createTempFile("node-", ".err");
        try {
            Process node = new ProcessBuilder(command).directory(DIR.toFile())
                    .redirectError(ProcessBuilder.Redirect.to(err)).start();
            node.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            node.getOutputStream().close();
            byte[] out = node.getInputStream().readAllBytes();
            if (!node.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                node.destroyForcibly();
                throw new AssertionError(script + " did not finish in " + timeout);
            }
            assertEquals(0, node.exitValue(), script + " failed: " + Files.readString(err.toPath()));
            return new String(out, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(err.toPath());
        }
    }

    private static boolean nodeRuns() {
        try {
            Process node = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            node.getInputStream().readAllBytes();
            return node.waitFor(30, TimeUnit.SECONDS) && node.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
