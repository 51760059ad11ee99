package neuron.engine.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real PyTorch for interoperability tests: Debian's python3-torch ({@code -Dneuron.python}, default
 * {@code /usr/bin/python3}). Tests that need it are skipped, with the reason, where it is missing.
 */
public final class PythonTorch {
    public static final String PYTHON = System.getProperty("neuron.python", "/usr/bin/python3");
    private static Boolean available;

    private PythonTorch() {
    }

    /** Skips the calling test unless {@code import torch} works. */
    public static void assumeAvailable() {
        assumeTrue(available(), PYTHON + " cannot import torch (install python3-torch): interoperability test skipped");
    }

    public static synchronized boolean available() {
        if (available == null) {
            try {
                Process p = new ProcessBuilder(PYTHON, "-c", "import torch").redirectErrorStream(true).start();
                available = p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
            } catch (IOException e) {
                available = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                available = false;
            }
        }
        return available;
    }

    /** Runs {@code script} with {@code args}; returns its standard output, failing the test on a non-zero exit. */
    public static String run(String script, String... args) throws IOException, InterruptedException {
        Path file = Files.createTempFile("neuron-test", ".py");
        try {
            Files.writeString(file, script);
            List<String> cmd = new ArrayList<>(List.of(PYTHON, file.toString()));
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("python did not finish: " + script);
            }
            String text = new String(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new AssertionError("python failed (" + p.exitValue() + "):\n" + text);
            }
            return text;
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
