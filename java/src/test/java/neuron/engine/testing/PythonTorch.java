package neuron.engine.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The real PyTorch for interoperability tests: Debian's python3-torch ({@code -Dneuron.python}, default
 * {@code /usr/bin/python3}). Tests that need it are skipped, with the reason, where it is missing, and fail in CI
 * ({@link Required}).
 */
public final class PythonTorch {
    public static final String PYTHON = System.getProperty("neuron.python", "/usr/bin/python3");
    private static Boolean available;

    private PythonTorch() {
    }

    /** Skips (in CI: fails) the calling test unless {@code import torch} works. */
    public static void assumeAvailable() {
        Required.tool(available(), PYTHON + " cannot import torch (install python3-torch)");
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

    /** Runs {@code script} (Python source) with {@code args}; see {@link #runFile}. */
    public static String run(String script, String... args) throws IOException, InterruptedException {
        Path file = Files.createTempFile("neuron-test", ".py");
        try {
            Files.writeString(file, script);
            return runFile(file, args);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /**
     * Runs the script file with {@code args}; returns its standard output (warnings on standard error stay out
     * of it), failing the test with both streams on a non-zero exit or after five minutes.
     */
    public static String runFile(Path script, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(PYTHON, script.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        CompletableFuture<byte[]> stderr = CompletableFuture.supplyAsync(() -> {
            try {
                return p.getErrorStream().readAllBytes();
            } catch (IOException e) {
                return e.toString().getBytes(StandardCharsets.UTF_8);
            }
        });
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("python did not finish: " + cmd);
        }
        if (p.exitValue() != 0) {
            throw new AssertionError("python failed (" + p.exitValue() + "): " + cmd + "\n" + out + "\n"
                    + new String(stderr.join(), StandardCharsets.UTF_8));
        }
        return out;
    }
}
