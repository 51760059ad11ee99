package neuron.engine.cli;

import neuron.engine.testing.ChildJvm;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A compressed demo, with real processes: the network learns and ranks its miners, the killed processes resume,
 * the folder holds the picture, the summary and the evidence, and the working directory stays empty.
 */
@Slow
@Timeout(value = 20, unit = TimeUnit.MINUTES) // the demo itself may run 10 minutes
class DemoRunTest {
    private static final String[] COMPRESSED = {"--duration_s", "40", "--block_time_ms", "300",
            "--blocks_per_window", "6", "--miner_checkpoint_interval", "50", "--validator_checkpoint_interval", "5"};

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
    void aNetworkLearnsAndEachKilledProcessResumesFromItsCheckpointAndNothingIsLeftInTheWorkingDirectory()
            throws Exception {
        // run as a user would, from a checkout: no --out, a working directory that must stay as it was
        Path checkout = Files.createDirectories(dir.resolve("checkout"));
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        Path log = dir.resolve("demo.out");
        List<String> args = new ArrayList<>(List.of("demo"));
        args.addAll(List.of(COMPRESSED));
        Process demo = ChildJvm.start(ChildJvm.command(List.of("-Xmx512m", "-Djava.io.tmpdir=" + tmp), Main.class,
                args.toArray(String[]::new)), checkout.toFile(), log.toFile());
        assertTrue(demo.waitFor(10, TimeUnit.MINUTES), "the demo ends");
        String said = Files.readString(log);
        assertEquals(Main.EXIT_OK, demo.exitValue(), said);
        try (var left = Files.list(checkout)) {
            assertEquals(List.of(), left.toList(), "the demo leaves nothing in the working directory");
        }
        Matcher where = Pattern.compile("all output in (\\S+)").matcher(said);
        assertTrue(where.find(), said);
        Path folder = Path.of(where.group(1));
        assertEquals(tmp, folder.getParent(), "a new folder in the temporary directory, named in the first line");
        assertTrue(said.contains("done: everything is in " + folder), said);

        assertTrue(said.matches("(?s).*miner-1 resumed from \\S+miner-1\\.pth at global_step \\d+.*"), said);
        assertTrue(said.matches("(?s).*validator resumed from \\S+validator\\.pth at block \\d+ with \\d+ miners "
                + "scored: its scores and weights survived.*"), said);
        assertTrue(said.matches("(?s).*validator replayed [1-9]\\d* journaled blocks.*"), said);
        assertTrue(said.matches("(?s).*miner-1's first update after its restart \\(window \\d+\\) was (accepted|not "
                + "better): it caught up with the network's base.*"), said);
        assertTrue(said.contains("the network learned"), said);
        assertTrue(said.matches("(?s).*miner-1 committed nothing for windows \\d+\\.\\.\\d+ while it was down: each counted "
                + "as a zero, its score went from [0-9.]+ to [0-9.]+ \\(a miner that stops submitting loses its score\\).*"),
                said);
        assertTrue(said.matches("(?s).*the chain holds the weights validator 0 set at block \\d+ .*\\{1=\\d+.*"), said);
        assertFalse(said.contains("NOT AS EXPECTED"), said);

        String summary = Files.readString(folder.resolve("summary.txt"));
        assertTrue(summary.matches("(?s).*miner-1 +\\| 1 +\\| 1 +\\| step \\d+.*honest.*"), summary);
        assertTrue(summary.matches("(?s).*miner-2 +\\| 0 +\\| 0 +\\| - .*lazy.*"), summary);
        assertTrue(summary.matches("(?s).*validator +\\| 1 +\\| 1 +\\| block \\d+ \\(\\+[1-9]\\d* replayed\\).*"), summary);
        assertEquals(Files.readAllLines(folder.resolve("narration.txt")).size(),
                said.lines().filter(l -> l.startsWith("[")).count());

        BufferedImage png = ImageIO.read(folder.resolve("demo.png").toFile());
        assertNotNull(png, "demo.png is a PNG");
        assertEquals(1200, png.getWidth());
        assertEquals(4 * 420, png.getHeight(), "four panels: losses, the network's loss, scores, weights");

        for (String file : new String[] {"chain.log", "miner-1.log", "miner-2.log", "miner-3.log", "validator.log",
                "miner-1.pth", "miner-2.pth", "miner-3.pth", "validator.pth"}) {
            assertTrue(Files.size(folder.resolve(file)) > 0, file);
        }
        assertTrue(Files.readString(folder.resolve("validator.metrics.csv"))
                .startsWith("block,uid,score,weight,held_out_loss\n"));
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
