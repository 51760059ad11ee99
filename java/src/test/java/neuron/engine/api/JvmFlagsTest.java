package neuron.engine.api;

import neuron.engine.testing.Slow;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Without the flags Chronicle needs, opening says which in one line instead of failing inside Chronicle. */
@Slow
class JvmFlagsTest {
    @TempDir
    Path dir;

    @Test
    void theFlagsTheBuildPassesAreTheOnesTheEngineChecks() {
        assertEquals(List.of(), JvmFlags.missing(), "surefire runs with the flags of the parent pom");
    }

    @Test
    void aJvmWithoutThemIsRefusedInOneLineNamingThem() throws Exception {
        Path log = dir.resolve("child.log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
                "-cp", System.getProperty("java.class.path"), OpenWithoutFlags.class.getName(),
                dir.resolve("c.pth").toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child finished");
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(3, p.exitValue(), out);
        String refusal = out.lines().filter(l -> l.startsWith("refused: ")).findFirst().orElseThrow();
        for (String pair : JvmFlags.OPENS) {
            assertTrue(refusal.contains("--add-opens=" + pair + "=ALL-UNNAMED"), refusal);
        }
        for (String pair : JvmFlags.EXPORTS) {
            assertTrue(refusal.contains("--add-exports=" + pair + "=ALL-UNNAMED"), refusal);
        }
        assertFalse(out.contains("Exception") || out.contains("chronicle"), "nothing of Chronicle ran: " + out);
        assertFalse(Files.exists(dir.resolve("c.pth")));
    }
}
