package neuron.engine.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointFilesTest {
    @TempDir
    Path dir;

    private static void persist(CheckpointFiles files, String content) throws Exception {
        Files.writeString(files.temporary(), content);
        files.install();
    }

    @Test
    void installKeepsTheConfiguredNumberOfBackupsNewestFirst() throws Exception {
        CheckpointFiles files = new CheckpointFiles(dir.resolve("sub/miner_checkpoint.pth"), 2);
        files.checkWritable();
        for (int i = 1; i <= 4; i++) {
            persist(files, "v" + i);
        }
        assertEquals("v4", Files.readString(files.path()));
        assertEquals("v3", Files.readString(files.backup(1)));
        assertEquals("v2", Files.readString(files.backup(2)));
        assertFalse(Files.exists(files.backup(3)));
        assertFalse(Files.exists(files.temporary()));
        assertEquals(List.of(files.path(), files.backup(1), files.backup(2)), files.candidates());
    }

    @Test
    void noBackupsWhenAskedForNone() throws Exception {
        CheckpointFiles files = new CheckpointFiles(dir.resolve("c.pth"), 0);
        persist(files, "a");
        persist(files, "b");
        assertEquals("b", Files.readString(files.path()));
        assertEquals(List.of(files.path()), files.candidates());
    }

    @Test
    void movesCorruptFilesAsideWithoutOverwritingEvidence() throws Exception {
        CheckpointFiles files = new CheckpointFiles(dir.resolve("c.pth"), 2);
        persist(files, "bad1");
        Path first = files.moveAside(files.path());
        persist(files, "bad2");
        Path second = files.moveAside(files.path());
        assertEquals("c.pth.corrupt", first.getFileName().toString());
        assertEquals("c.pth.corrupt.1", second.getFileName().toString());
        assertEquals("bad1", Files.readString(first));
        assertEquals("bad2", Files.readString(second));
    }

    @Test
    void rejectsUnusableDirectoriesWithOneLine() throws Exception {
        Path aFile = Files.writeString(dir.resolve("plain-file"), "x");
        UnusablePathException underFile = assertThrows(UnusablePathException.class,
                () -> new CheckpointFiles(aFile.resolve("c.pth"), 2).checkWritable());
        assertTrue(underFile.getMessage().contains(aFile.toString()), underFile.getMessage());
        UnusablePathException inProc = assertThrows(UnusablePathException.class,
                () -> new CheckpointFiles(Path.of("/proc/neuron-no/c.pth"), 2).checkWritable());
        assertFalse(inProc.getMessage().contains("\n"));
        assertThrows(UnusablePathException.class, () -> new CheckpointFiles(dir, 2).checkWritable());
    }

    @Test
    void theWriteProbeLeavesNothingBehind() throws Exception {
        CheckpointFiles.checkWritableDirectory(dir.resolve("staging"), "staging directory");
        try (var left = Files.list(dir.resolve("staging"))) {
            assertEquals(List.of(), left.toList());
        }
    }

    @Test
    void backupsFromALargerKeepStayWhereTheyAreAndAreStillCandidates() throws Exception {
        CheckpointFiles files = new CheckpointFiles(dir.resolve("c.pth"), 2);
        Files.writeString(files.backup(3), "from a run with --keep_backups 3");
        Files.writeString(files.backup(10), "the last generation looked at");
        persist(files, "a");
        persist(files, "b");
        assertEquals("from a run with --keep_backups 3", Files.readString(files.backup(3)));
        assertFalse(Files.exists(files.backup(4)));
        assertEquals(List.of(files.path(), files.backup(1), files.backup(3), files.backup(10)), files.candidates());
    }

    @Test
    void aThirdCorruptFileGetsTheNextNumber() throws Exception {
        CheckpointFiles files = new CheckpointFiles(dir.resolve("c.pth"), 0);
        for (int i = 0; i < 3; i++) {
            persist(files, "bad" + i);
            files.moveAside(files.path());
        }
        assertEquals("bad2", Files.readString(dir.resolve("c.pth.corrupt.2")));
    }

    @Test
    void anUnfinishedPersistIsRemovedAndALinkNotFollowed() throws Exception {
        CheckpointFiles files = new CheckpointFiles(dir.resolve("c.pth"), 1);
        Files.writeString(files.temporary(), "half");
        files.discardTemporary();
        assertFalse(Files.exists(files.temporary()));
        Path target = Files.writeString(dir.resolve("elsewhere"), "kept");
        Files.createSymbolicLink(files.temporary(), target);
        files.discardTemporary();
        assertFalse(Files.exists(files.temporary(), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertEquals("kept", Files.readString(target));
        files.discardTemporary();   // nothing there: nothing to do
    }
}
