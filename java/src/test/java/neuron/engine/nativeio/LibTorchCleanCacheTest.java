package neuron.engine.nativeio;

import neuron.engine.testing.ChildJvm;
import neuron.engine.testing.Slow;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.bytedeco.pytorch.global.torch.ones;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The first LibTorch load on an empty JavaCPP cache must use the bundled LibTorch, even where Debian's
 * libtorch 1.13 is installed (python3-torch in CI): a fresh JVM with an empty, temporary cache loads it and
 * computes with it.
 */
@Slow
class LibTorchCleanCacheTest {

    /** Runs in the child JVM. */
    public static final class Probe {
        public static void main(String[] args) {
            LibTorch.load();
            Tensor sum = ones(2, 3).add(ones(2, 3)).sum();
            System.out.println("PROBE sum=" + sum.item_float());
        }
    }

    @Test
    void loadsBundledLibTorchWithAnEmptyCache(@TempDir Path dir) throws Exception {
        Path cache = Files.createDirectories(dir.resolve("javacpp-cache"));
        File log = dir.resolve("child.log").toFile();
        List<String> cmd = ChildJvm.command(List.of("-Dorg.bytedeco.javacpp.cachedir=" + cache), Probe.class);
        Process p = ChildJvm.start(cmd, dir.toFile(), log);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "child JVM did not finish");
        String out = Files.readString(log.toPath());
        assertEquals(0, p.exitValue(), "child JVM failed:\n" + out);
        assertTrue(out.contains("PROBE sum=12.0"), out);
        try (var files = Files.walk(cache)) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().equals("libtorch_cpu.so")),
                    "the bundled libtorch_cpu.so was extracted into the temporary cache");
        }
        // In the parent too, the loader leaves it usable.
        LibTorch.load();
        assertEquals(6.0f, ones(2, 3).sum().item_float());
    }
}
