package neuron.engine.cli;

import neuron.engine.testing.SpecialFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A miner or validator whose checkpoint path is a device or a FIFO (run as root, {@code --checkpoint_path
 * /dev/null} once replaced the system's /dev/null) exits 2 with one line and leaves it as it was, without
 * blocking on it.
 */
class CliSpecialPathsTest {
    @TempDir
    Path dir;

    @Test
    void aDeviceOrFifoAsTheCheckpointIsRefusedWithExitTwoAndLeftAlone() throws Exception {
        Path device = SpecialFiles.nullDevice(dir.resolve("null"));
        Path fifo = SpecialFiles.fifo(dir.resolve("pipe.pth"));
        String[][] runs = {
                {"miner", "--max_steps", "1", "--checkpoint_path", device.toString()},
                {"miner", "--max_steps", "1", "--checkpoint_path", fifo.toString()},
                {"validator", "--until_block", "1", "--checkpoint_path", fifo.toString(), "--journal_dir",
                        dir.resolve("journal").toString()},
                {"validator", "--until_block", "1", "--checkpoint_path", device.toString(), "--journal_dir",
                        dir.resolve("journal").toString()},
        };
        String deviceBefore = SpecialFiles.identity(device);
        String fifoBefore = SpecialFiles.identity(fifo);
        for (String[] args : runs) {
            StringWriter err = new StringWriter();
            // a hang guard: opening the FIFO would block until a writer came
            int status = assertTimeoutPreemptively(Duration.ofMinutes(5), () -> {
                var cli = Main.commandLine();
                cli.setOut(new PrintWriter(new StringWriter(), true));
                cli.setErr(new PrintWriter(err, true));
                return cli.execute(args);
            });
            String what = String.join(" ", args) + ": " + err;
            assertEquals(Main.EXIT_USAGE, status, what);
            assertEquals(1, err.toString().lines().count(), what);
            Path special = args[4].equals(device.toString()) ? device : fifo;
            assertTrue(err.toString().startsWith("neuron " + args[0] + ": " + special + " is a "), what);
        }
        assertEquals(deviceBefore, SpecialFiles.identity(device), "the device is left as it was");
        assertEquals(fifoBefore, SpecialFiles.identity(fifo), "the FIFO is left as it was");
        for (String renamed : new String[] {"null.1", "pipe.pth.1", "null.tmp", "pipe.pth.tmp"}) {
            assertFalse(Files.exists(dir.resolve(renamed), LinkOption.NOFOLLOW_LINKS), renamed);
        }
    }
}
