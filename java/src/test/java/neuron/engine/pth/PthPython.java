package neuron.engine.pth;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs pth_tool.py with the Python that has torch (system property neuron.python, default /usr/bin/python3). */
final class PthPython {
    private static final String PYTHON = System.getProperty("neuron.python", "/usr/bin/python3");
    private static String torchMissing;

    private PthPython() {
    }

    /** Skips the calling test, saying why, when the Python has no torch. */
    static synchronized void assumeTorch() {
        if (torchMissing == null) {
            Result probe = exec(List.of(PYTHON, "-c", "import torch; print(torch.__version__)"));
            torchMissing = probe.status == 0 ? "" : PYTHON + " cannot import torch (install python3-torch): "
                    + probe.stderr.strip();
        }
        assumeTrue(torchMissing.isEmpty(), torchMissing);
    }

    /** pth_tool.py's stdout; fails the test with its stderr if it exits non-zero. */
    static String tool(String... args) {
        List<String> command = new ArrayList<>(List.of(PYTHON, script().toString()));
        command.addAll(List.of(args));
        Result result = exec(command);
        if (result.status != 0) {
            throw new AssertionError("pth_tool.py " + String.join(" ", args) + " failed:\n" + result.stderr);
        }
        return result.stdout;
    }

    private static Path script() {
        try {
            return Path.of(PthPython.class.getResource("pth_tool.py").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private record Result(int status, String stdout, String stderr) {
    }

    private static Result exec(List<String> command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(false).start();
            process.getOutputStream().close();
            var stderr = process.getErrorStream();
            byte[][] err = new byte[1][];
            Thread drainErr = new Thread(() -> {
                try {
                    err[0] = stderr.readAllBytes();
                } catch (IOException e) {
                    err[0] = e.toString().getBytes(StandardCharsets.UTF_8);
                }
            });
            drainErr.start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("timed out: " + command);
            }
            drainErr.join();
            return new Result(process.exitValue(), out, new String(err[0], StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(-1, "", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException(e));
        }
    }
}
