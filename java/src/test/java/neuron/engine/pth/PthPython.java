package neuron.engine.pth;

import neuron.engine.testing.PythonTorch;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** Runs pth_tool.py with the Python that has torch ({@link PythonTorch}). */
final class PthPython {
    private PthPython() {
    }

    /** Skips the calling test, saying why, when the Python has no torch. */
    static void assumeTorch() {
        PythonTorch.assumeAvailable();
    }

    /** pth_tool.py's stdout; fails the test with its output if it exits non-zero. */
    static String tool(String... args) {
        try {
            return PythonTorch.runFile(Path.of(PthPython.class.getResource("pth_tool.py").toURI()), args);
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
