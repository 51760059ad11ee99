package neuron.engine.checkpoint;

import neuron.engine.nativeio.LibTorch;
import neuron.engine.testing.SpecialFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Anything but a regular file where the engine keeps checkpoint files (a device, a FIFO, a directory, a link) is
 * refused with one line and left exactly as it was: at start-up, at each install, when moving a bad file aside;
 * and the engine never opens one, so a FIFO cannot hang it.
 */
class CheckpointPathsTest {
    private static final Duration WAIT = Duration.ofMinutes(2);
    /** Guards against a hang (a FIFO opened blocks until a writer comes); not a speed assertion. */
    private static final Duration HANG = Duration.ofMinutes(1);

    @TempDir
    Path dir;

    @BeforeAll
    static void torch() {
        LibTorch.load();
    }

    private Checkpointer open(Path ckpt, Path staging) throws IOException {
        return Checkpointer.open(new CheckpointConfig(ckpt, 2, staging), new CheckpointPolicy(1), 1 << 20,
                "global_step", CheckpointListener.NONE);
    }

    /** Makes each kind of special file at {@code at}, in turn; returns their names for messages. */
    private interface Maker {
        void make(Path at) throws Exception;
    }

    private static Map<String, Maker> specialFiles(Path dir) {
        Map<String, Maker> kinds = new LinkedHashMap<>();
        kinds.put("a character device", SpecialFiles::nullDevice);
        kinds.put("a FIFO", SpecialFiles::fifo);
        kinds.put("a directory", SpecialFiles::nonEmptyDirectory);
        kinds.put("a symbolic link", at -> Files.createSymbolicLink(at, Files.writeString(
                dir.resolve("elsewhere-" + at.getFileName()), "a file the engine must not replace")));
        return kinds;
    }

    @Test
    void aSpecialFileAtTheCheckpointOrABackupOrTheTemporaryIsRefusedAtStartAndLeftAlone() throws Exception {
        for (String name : List.of("c.pth", "c.pth.tmp", "c.pth.1", "c.pth.2")) {
            for (Map.Entry<String, Maker> kind : specialFiles(dir).entrySet()) {
                Path root = Files.createDirectories(dir.resolve("case-" + name + "-" + kind.getKey().replace(' ', '-')));
                Path ckpt = root.resolve("c.pth");
                Path special = root.resolve(name);
                kind.getValue().make(special);
                String before = SpecialFiles.identity(special);
                UnusablePathException refused = assertTimeoutPreemptively(HANG, () -> assertThrows(
                        UnusablePathException.class, () -> open(ckpt, root.resolve("staging")),
                        name + " as " + kind.getKey()));
                String what = name + " as " + kind.getKey() + ": " + refused.getMessage();
                assertTrue(refused.getMessage().contains(special.toString()), what);
                assertTrue(refused.getMessage().contains(kind.getKey()), what);
                assertFalse(refused.getMessage().contains("\n"), what);
                assertEquals(before, SpecialFiles.identity(special), "left alone: " + what);
                for (String other : List.of("c.pth", "c.pth.1", "c.pth.2", "c.pth.3")) {
                    if (!other.equals(name)) {
                        assertFalse(Files.exists(root.resolve(other), LinkOption.NOFOLLOW_LINKS),
                                "nothing renamed to " + other + ": " + what);
                    }
                }
            }
        }
    }

    @Test
    void aSpecialFileInTheStagingDirectoryOrAsItIsRefusedAndLeftAlone() throws Exception {
        Path staging = Files.createDirectories(dir.resolve("staging"));
        Path fifo = SpecialFiles.fifo(staging.resolve("20261201-0000V.cq4"));
        UnusablePathException inside = assertThrows(UnusablePathException.class,
                () -> open(dir.resolve("c.pth"), staging));
        assertTrue(inside.getMessage().contains(fifo + " is a FIFO"), inside.getMessage());
        assertEquals("fifo 0:0", SpecialFiles.identity(fifo).substring(0, 8));

        Path device = SpecialFiles.nullDevice(dir.resolve("staging-device"));
        String before = SpecialFiles.identity(device);
        UnusablePathException asStaging = assertThrows(UnusablePathException.class,
                () -> open(dir.resolve("d.pth"), device));
        assertTrue(asStaging.getMessage().contains(device + " is not a directory"), asStaging.getMessage());
        assertEquals(before, SpecialFiles.identity(device));
    }

    @Test
    void aFifoIsNeverOpenedSoNothingBlocksOnIt() throws Exception {
        Path fifo = SpecialFiles.fifo(dir.resolve("c.pth"));
        CheckpointFiles files = new CheckpointFiles(fifo, 2);
        assertTimeoutPreemptively(HANG, () -> {
            assertEquals(-1, CheckpointLoader.peekProgress(fifo, "global_step"));
            IOException load = assertThrows(IOException.class,
                    () -> CheckpointLoader.load(fifo, "global_step", StoredCheckpoint::progress));
            assertTrue(load.getMessage().contains("is a FIFO"), load.getMessage());
            assertTrue(files.candidates().isEmpty());
            assertTrue(CheckpointLoader.loadNewestValid(files, "global_step", StoredCheckpoint::progress).isEmpty());
            IOException moved = assertThrows(IOException.class, () -> files.moveAside(fifo));
            assertTrue(moved.getMessage().contains("is a FIFO"), moved.getMessage());
        });
        assertTrue(SpecialFiles.identity(fifo).startsWith("fifo"), "still a FIFO, where it was");
        assertFalse(Files.exists(dir.resolve("c.pth.corrupt"), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void anInstallNeverRenamesOrDeletesASpecialFile() throws Exception {
        CheckpointFiles files = new CheckpointFiles(dir.resolve("c.pth"), 2);
        for (int v = 1; v <= 2; v++) {
            Files.writeString(files.temporary(), "v" + v);
            files.install();
        }
        Files.delete(files.backup(1));
        Path fifo = SpecialFiles.fifo(files.backup(2));
        Files.writeString(files.temporary(), "v3");
        IOException refused = assertThrows(IOException.class, files::install);
        assertTrue(refused.getMessage().contains(fifo + " is a FIFO"), refused.getMessage());
        assertTrue(refused.getMessage().contains("not installed"), refused.getMessage());
        assertEquals("v2", Files.readString(files.path()), "nothing moved");
        assertTrue(SpecialFiles.identity(fifo).startsWith("fifo"));
        assertFalse(Files.exists(files.backup(1)));
        assertFalse(Files.exists(files.backup(3), LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aDirectoryPutAtTheCheckpointPathMidRunIsNeverRotatedAndTheFailureSaysWhy() throws Exception {
        Path ckpt = dir.resolve("m.pth");
        CheckpointFiles files = new CheckpointFiles(ckpt, 2);
        List<Throwable> failures = new ArrayList<>();
        try (Checkpointer c = Checkpointer.open(new CheckpointConfig(ckpt, 2, dir.resolve("staging")),
                new CheckpointPolicy(1), 1 << 20, "global_step", new CheckpointListener() {
                    @Override
                    public void persistFailed(long step, Throwable cause) {
                        failures.add(cause);
                    }
                })) {
            for (long step = 1; step <= 2; step++) {
                c.snapshot(step, CheckpointerTest.source(CheckpointerTest.state(step)));
                c.awaitPersisted(step, WAIT);
            }
            Files.delete(ckpt);
            SpecialFiles.nonEmptyDirectory(ckpt);
            c.snapshot(3, CheckpointerTest.source(CheckpointerTest.state(3)));
            IOException notPersisted = assertThrows(IOException.class, () -> c.awaitPersisted(3, WAIT));
            assertTrue(notPersisted.getMessage().contains(ckpt + " is a directory, not a checkpoint file"),
                    notPersisted.getMessage());
            assertEquals(1, failures.size());
            assertTrue(Files.isDirectory(ckpt, LinkOption.NOFOLLOW_LINKS), "left where it is");
            assertEquals("not a checkpoint", Files.readString(ckpt.resolve("keep.txt")));
            assertEquals(1, CheckpointLoader.load(files.backup(1), "global_step", StoredCheckpoint::progress),
                    "backup 1 is the checkpoint of step 1, not the directory");
            assertFalse(Files.exists(files.backup(2)), "nothing shifted");
            assertEquals(ckpt + " is a directory; the newest checkpoint file is " + files.backup(1), files.onDisk(),
                    "the failure line says what is on disk instead of 'the previous checkpoint is intact'");

            // Once the directory is gone, the next snapshot persists as usual.
            Files.delete(ckpt.resolve("keep.txt"));
            Files.delete(ckpt);
            c.snapshot(4, CheckpointerTest.source(CheckpointerTest.state(4)));
            c.awaitPersisted(4, WAIT);
        }
        assertEquals(4, CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress));
        assertEquals("the previous checkpoint " + ckpt + " is intact", files.onDisk());
    }

    @Test
    void aStagingDirectoryDeletedMidRunIsRecreatedAndCheckpointingGoesOn() throws Exception {
        Path ckpt = dir.resolve("s.pth");
        Path staging = dir.resolve("staging");
        List<String> skipped = new ArrayList<>();
        try (Checkpointer c = Checkpointer.open(new CheckpointConfig(ckpt, 2, staging), new CheckpointPolicy(1),
                1 << 20, "global_step", new CheckpointListener() {
                    @Override
                    public void snapshotSkipped(long step, String reason) {
                        skipped.add(step + ": " + reason);
                    }
                })) {
            c.snapshot(1, CheckpointerTest.source(CheckpointerTest.state(1)));
            c.awaitPersisted(1, WAIT);
            for (long step = 2; step <= 3; step++) {
                deleteTree(staging);   // an operator's rm -rf, twice
                assertTrue(c.snapshot(step, CheckpointerTest.source(CheckpointerTest.state(step))), skipped.toString());
                c.awaitPersisted(step, WAIT);
                assertTrue(Files.isDirectory(staging), "recreated");
                assertEquals(ProcessHandle.current().pid(),
                        ProcessLock.holder(staging.resolve(CheckpointClaim.STAGING_LOCK)), "locked anew");
            }
            assertEquals(List.of(), skipped, "no trigger was lost to 'staging has 0.0 KiB free'");
        }
        assertEquals(3, CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress));
        assertEquals(2, CheckpointLoader.load(ckpt.resolveSibling("s.pth.1"), "global_step", StoredCheckpoint::progress));
        assertEquals(0, StagingFiles.count(staging), "a clean stop gives the recreated staging back too");
    }

    private static void deleteTree(Path root) throws IOException {
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void aFileSystemFailureNamingOnlyItsPathSaysItsCause() {
        assertEquals("/x/c.pth.2: directory not empty",
                Failures.oneLine(new DirectoryNotEmptyException("/x/c.pth.2")));
        assertEquals("/x/c.pth: no such file or directory",
                Failures.oneLine(new java.nio.file.NoSuchFileException("/x/c.pth")));
    }
}
