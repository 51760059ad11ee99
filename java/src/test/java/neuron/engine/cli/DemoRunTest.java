package neuron.engine.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A compressed demo, with real processes: the folder holds the picture, the summary and the resume evidence. */
class DemoRunTest {
    private static final String[] COMPRESSED = {"--duration_s", "20", "--block_time_ms", "300",
            "--miner_checkpoint_interval", "50", "--validator_checkpoint_interval", "5"};

    @TempDir
    Path dir;

    private static int demo(StringWriter out, StringWriter err, Path folder) {
        var cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        String[] args = new String[COMPRESSED.length + 3];
        args[0] = "demo";
        args[1] = "--out";
        args[2] = folder.toString();
        System.arraycopy(COMPRESSED, 0, args, 3, COMPRESSED.length);
        return cli.execute(args);
    }

    @Test
    void killsRestartsAndShowsThatEachResumedFromItsCheckpoint() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Path folder = dir.resolve("demo");
        assertEquals(Main.EXIT_OK, demo(out, err, folder), out + "\n" + err);
        String said = out.toString();

        assertTrue(said.matches("(?s).*miner-1 resumed from \\S+miner-1\\.pth at global_step \\d+.*"), said);
        assertTrue(said.matches("(?s).*validator resumed from \\S+validator\\.pth at block \\d+ with [12] miners "
                + "scored: its scores and weights survived.*"), said);
        assertTrue(said.contains("journaled blocks") || said.contains("no journaled block"), said);
        assertTrue(said.contains("done: everything is in " + folder.toAbsolutePath()), said);

        String summary = Files.readString(folder.resolve("summary.txt"));
        assertTrue(summary.matches("(?s).*miner-1 +\\| 1 +\\| 1 +\\| step \\d+.*"), summary);
        assertTrue(summary.matches("(?s).*miner-2 +\\| 0 +\\| 0 +\\| - .*"), summary);
        assertTrue(summary.matches("(?s).*validator +\\| 1 +\\| 1 +\\| block \\d+ \\(\\+\\d+ replayed\\).*"), summary);
        assertEquals(Files.readAllLines(folder.resolve("narration.txt")).size(), said.lines().count());

        BufferedImage png = ImageIO.read(folder.resolve("demo.png").toFile());
        assertNotNull(png, "demo.png is a PNG");
        assertEquals(1200, png.getWidth());

        for (String file : new String[] {"chain.log", "miner-1.log", "miner-2.log", "validator.log", "miner-1.pth",
                "miner-2.pth", "validator.pth"}) {
            assertTrue(Files.size(folder.resolve(file)) > 0, file);
        }
        assertTrue(Files.readString(folder.resolve("validator.metrics.csv")).startsWith("block,uid,score,weight\n"));
        assertNoChildLeft();
    }

    @Test
    void aChildThatDiesSaysWhichAndWhereItsLogIsAndStopsTheOthers() throws Exception {
        Path folder = dir.resolve("broken");
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("validator.pth.journal"), "a file where the journal directory goes");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(Main.EXIT_FAILURE, demo(out, err, folder), out.toString());
        assertEquals(1, err.toString().lines().count(), err.toString());
        assertTrue(err.toString().contains("validator exited unexpectedly")
                && err.toString().contains(folder.resolve("validator.log").toAbsolutePath().toString()), err.toString());
        assertNoChildLeft();
    }

    /** No engine process the demo started (chain, miner, validator) is still running. */
    private static void assertNoChildLeft() {
        long left = ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                .filter(p -> p.info().commandLine().orElse("").contains(Main.class.getName())).count();
        assertEquals(0, left, "processes of the demo still running");
    }
}
