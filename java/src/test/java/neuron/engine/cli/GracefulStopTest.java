package neuron.engine.cli;

import neuron.engine.testing.ChildJvm;
import neuron.engine.testing.Slow;
import neuron.engine.testing.SpecialFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SIGTERM ends the process in bounded time even when its loop is blocked in a read that never returns. */
@Slow
class GracefulStopTest {
    @TempDir
    Path dir;

    @Test
    void aLoopBlockedBeforeOrBetweenStepsStillStopsOnSigtermWithOneLineSayingWhere() throws Exception {
        List<String> modes = List.of("start-up", "mid-run");
        Process[] children = new Process[modes.size()];
        Path[] logs = new Path[modes.size()];
        for (int i = 0; i < modes.size(); i++) {
            Path fifo = SpecialFiles.fifo(dir.resolve("never-written-" + i));
            logs[i] = dir.resolve(modes.get(i) + ".log");
            children[i] = ChildJvm.start(ChildJvm.command(List.of("-Xmx64m"), BlockedLoop.class, modes.get(i),
                    fifo.toString()), dir.toFile(), logs[i].toFile());
        }
        try {
            for (int i = 0; i < modes.size(); i++) {
                awaitLog(children[i], logs[i], "blocking on ");
                Thread.sleep(200);   // into the open(2) that blocks
                children[i].destroy();   // SIGTERM
            }
            for (int i = 0; i < modes.size(); i++) {
                // a hang guard, far above the bound (15 s): the process must end by itself
                assertTrue(children[i].waitFor(5, TimeUnit.MINUTES), modes.get(i) + ": still running after SIGTERM");
                String log = Files.readString(logs[i]);
                assertEquals(143, children[i].exitValue(), log);
                List<String> lines = log.lines().filter(l -> l.contains("graceful stop: ")).toList();
                assertEquals(1, lines.size(), log);
                assertTrue(lines.get(0).contains("the loop did not reach the end of its step within 15 s (thread main "
                        + "in FileInputStream.open0 from BlockedLoop.lambda$main$0); exiting without a final "
                        + "checkpoint"), lines.get(0));
            }
        } finally {
            for (Process child : children) {
                child.destroyForcibly();
            }
        }
    }

    private static void awaitLog(Process child, Path log, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (System.nanoTime() < deadline && child.isAlive()) {
            if (Files.exists(log) && Files.readString(log).contains(text)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no '" + text + "' in\n" + (Files.exists(log) ? Files.readString(log) : ""));
    }
}
