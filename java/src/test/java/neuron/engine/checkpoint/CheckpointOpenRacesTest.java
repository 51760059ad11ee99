package neuron.engine.checkpoint;

import neuron.engine.nativeio.LibTorch;
import neuron.engine.nativeio.NativeFile;
import neuron.engine.testing.SpecialFiles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Someone else who can write in the checkpoint's directory plants a link or a FIFO where the engine is about to
 * open a file, also in the instant between the engine's check of the path and its open (a hook placed there, so
 * the race is won every time, not by luck): no link is followed, nothing blocks, the checkpoint on disk stays.
 */
class CheckpointOpenRacesTest {
    private static final Duration WAIT = Duration.ofMinutes(2);
    /** Guards against a hang (a FIFO opened blocks until a writer comes); not a speed assertion. */
    private static final Duration HANG = Duration.ofMinutes(1);

    @TempDir
    Path dir;

    @BeforeAll
    static void torch() {
        LibTorch.load();
    }

    @AfterEach
    void noHook() {
        NativeFile.beforeOpen(null);
    }

    private Checkpointer open(Path ckpt) throws IOException {
        return Checkpointer.open(new CheckpointConfig(ckpt, 2, dir.resolve("staging")), new CheckpointPolicy(1),
                1 << 20, "global_step", CheckpointListener.NONE);
    }

    @Test
    void aLinkPlantedAtTheTemporaryFileIsRemovedNotFollowed() throws Exception {
        Path ckpt = dir.resolve("m.pth");
        Path victim = Files.writeString(dir.resolve("victim.txt"), "someone else's file");
        try (Checkpointer c = open(ckpt)) {
            c.snapshot(1, CheckpointerTest.source(CheckpointerTest.state(1)));
            c.awaitPersisted(1, WAIT);
            Files.createSymbolicLink(dir.resolve("m.pth.tmp"), victim);
            c.snapshot(2, CheckpointerTest.source(CheckpointerTest.state(2)));
            c.awaitPersisted(2, WAIT);
        }
        assertEquals("someone else's file", Files.readString(victim), "the link's target is not written");
        assertEquals(2, CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress));
    }

    @Test
    void aLinkSwappedInJustBeforeTheTemporaryIsCreatedFailsThatPersistOnly() throws Exception {
        Path ckpt = dir.resolve("m.pth");
        Path tmp = dir.resolve("m.pth.tmp");
        Path victim = Files.writeString(dir.resolve("victim.txt"), "someone else's file");
        try (Checkpointer c = open(ckpt)) {
            c.snapshot(1, CheckpointerTest.source(CheckpointerTest.state(1)));
            c.awaitPersisted(1, WAIT);
            NativeFile.beforeOpen(p -> {
                if (p.equals(tmp)) {
                    SpecialFiles.replace(tmp, () -> Files.createSymbolicLink(tmp, victim));
                }
            });
            c.snapshot(2, CheckpointerTest.source(CheckpointerTest.state(2)));
            IOException failed = assertThrows(IOException.class, () -> c.awaitPersisted(2, WAIT));
            assertTrue(failed.getMessage().contains("cannot create " + tmp), failed.getMessage());
            assertEquals("someone else's file", Files.readString(victim), "the link's target is not written");
            NativeFile.beforeOpen(null);
            c.snapshot(3, CheckpointerTest.source(CheckpointerTest.state(3)));
            c.awaitPersisted(3, WAIT);
        }
        assertEquals("someone else's file", Files.readString(victim));
        assertEquals(3, CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress));
        assertEquals(1, CheckpointLoader.load(dir.resolve("m.pth.1"), "global_step", StoredCheckpoint::progress));
    }

    @Test
    void aFifoOrALinkSwappedInBetweenTheCheckAndTheOpenOfALoadIsRefusedWithoutBlocking() throws Exception {
        Path ckpt = dir.resolve("m.pth");
        try (Checkpointer c = open(ckpt)) {
            c.snapshot(1, CheckpointerTest.source(CheckpointerTest.state(1)));
            c.awaitPersisted(1, WAIT);
        }
        Path kept = dir.resolve("kept.pth");
        Files.move(ckpt, kept);
        Files.copy(kept, ckpt);
        NativeFile.beforeOpen(p -> {
            if (p.equals(ckpt)) {
                SpecialFiles.replace(ckpt, () -> SpecialFiles.fifo(ckpt));
            }
        });
        IOException fifo = assertTimeoutPreemptively(HANG, () -> assertThrows(IOException.class,
                () -> CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress)));
        assertTrue(fifo.getMessage().contains(ckpt + " is a FIFO (named pipe)"), fifo.getMessage());

        NativeFile.beforeOpen(p -> {
            if (p.equals(ckpt)) {
                SpecialFiles.replace(ckpt, () -> Files.createSymbolicLink(ckpt, kept));
            }
        });
        Files.delete(ckpt);
        Files.copy(kept, ckpt);
        IOException link = assertThrows(IOException.class,
                () -> CheckpointLoader.load(ckpt, "global_step", StoredCheckpoint::progress));
        assertTrue(link.getMessage().contains(ckpt + " is a symbolic link"), link.getMessage());
        assertTrue(Files.isSymbolicLink(ckpt), "left where it is");
    }

    @Test
    void theStagingDirectoryIsMadePrivateAndALinkInItsPlaceIsRefused() throws Exception {
        Path staging = Files.createDirectories(dir.resolve("staging"));
        Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rwxrwxrwx"));
        try (Checkpointer c = open(dir.resolve("m.pth"))) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(staging)));
        }
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        Path linked = Files.createSymbolicLink(dir.resolve("linked-staging"), elsewhere);
        UnusablePathException refused = assertThrows(UnusablePathException.class, () -> Checkpointer.open(
                new CheckpointConfig(dir.resolve("n.pth"), 2, linked), new CheckpointPolicy(1), 1 << 20,
                "global_step", CheckpointListener.NONE));
        assertTrue(refused.getMessage().contains("staging directory " + linked + " is a symbolic link"),
                refused.getMessage());
    }
}
