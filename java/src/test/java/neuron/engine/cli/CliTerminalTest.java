package neuron.engine.cli;

import neuron.engine.testing.ChildJvm;
import neuron.engine.testing.Required;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** On a terminal (a pseudo-terminal from util-linux's script) a miner shows one live line below its log lines. */
@Slow
class CliTerminalTest {
    @TempDir
    Path dir;

    @Test
    void aMinerOnATerminalKeepsOneLiveLineBelowItsLogs() throws Exception {
        Required.tool(Files.isExecutable(Path.of("/usr/bin/script")), "util-linux script is missing: no pseudo-terminal");
        List<String> java = ChildJvm.command(List.of("-Xmx512m"), Main.class, "miner", "--max_steps", "40",
                "--checkpoint_interval", "20", "--batch_size", "2", "--seq_len", "16", "--checkpoint_path",
                dir.resolve("m.pth").toString(), "--staging_dir", dir.resolve("staging").toString());
        String command = java.stream().map(a -> "'" + a.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
        Path out = dir.resolve("terminal.txt");
        Process p = new ProcessBuilder("/usr/bin/script", "-qfec", command, "/dev/null").directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE)
                .start();
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "the miner did not finish");
        assertEquals(0, p.exitValue());
        String text = Files.readString(out, StandardCharsets.UTF_8);
        assertTrue(text.contains("\rstep 1 | loss "), "the live line is drawn in place:\n" + text);
        assertTrue(text.contains("checkpoint @20") || text.contains("checkpoint @40"), "it shows the last checkpoint:\n" + text);
        assertTrue(text.contains("step 40 | loss ") && text.contains("checkpoint @40"), "it ends as the run did:\n" + text);
        for (String line : text.split("\n")) {
            int log = line.indexOf("[INFO]");
            if (log > 0) {
                assertTrue(line.substring(0, log).contains("\r\u001b[K"), "a log line clears the live line first: " + line);
            }
        }
    }
}
