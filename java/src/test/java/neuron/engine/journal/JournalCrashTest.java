package neuron.engine.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import neuron.engine.testing.ChildJvm;
import neuron.engine.testing.Deadline;
import neuron.engine.testing.Slow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A writer JVM killed with SIGKILL in the middle of appending leaves a journal that reopens, reads and continues. */
@Slow
class JournalCrashTest {
    private static final Duration WRITER_PATIENCE = Duration.ofMinutes(3);

    @TempDir
    Path dir;

    @Test
    void survivesSigkillMidStreamAndContinues() throws Exception {
        Path journalDir = dir.resolve("journal");
        File log = dir.resolve("writer.log").toFile();
        long previousLast = -1;
        for (int kill = 1; kill <= 3; kill++) {
            Process writer = ChildJvm.start(ChildJvm.command(List.of(), JournalWriterMain.class, journalDir.toString()),
                    dir.toFile(), log);
            try {
                int linesBefore = lines(log);
                // kill it once it has journaled a while: two progress lines (>= 10,000 blocks) after this start
                // decided by the writer's own lines; the patience only bounds a JVM start on a busy machine
                Deadline progress = Deadline.in(WRITER_PATIENCE);
                while (lines(log) < linesBefore + 2 && writer.isAlive()) {
                    progress.check(() -> "two progress lines of the writer in " + log);
                    Thread.sleep(10);
                }
                assertTrue(writer.isAlive(), "the writer died by itself; see " + log);
            } finally {
                writer.destroyForcibly();
                assertTrue(writer.waitFor(WRITER_PATIENCE.toSeconds(), TimeUnit.SECONDS), "the killed writer ends");
            }
            try (BlockJournal journal = BlockJournal.open(journalDir)) {
                JournalInfo info = journal.info();
                assertEquals(0, info.firstBlock());
                assertEquals(info.blocks() - 1, info.lastBlock(), "every block from 0 on, once: " + info);
                assertEquals(List.of(), info.gaps());
                assertTrue(info.lastBlock() > previousLast, "kill " + kill + " after progress: " + info);
                assertEquals(info.lastBlock(), journal.lastBlock().number());
                // every complete window's evaluation is there; the last one may have died with the writer
                assertTrue(info.evaluations() >= (info.lastBlock() + 1) / 3 - 1, info.toString());
                previousLast = info.lastBlock();
            }
        }
    }

    private static int lines(File log) {
        try {
            return log.exists() ? (int) Files.readAllLines(log.toPath()).stream().filter(l -> l.startsWith("journaled")).count() : 0;
        } catch (IOException e) {
            return 0;
        }
    }
}
