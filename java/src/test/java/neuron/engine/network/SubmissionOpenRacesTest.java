package neuron.engine.network;

import neuron.engine.nativeio.LibTorch;
import neuron.engine.nativeio.NativeFile;
import neuron.engine.testing.SpecialFiles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A writer to the shared store swaps a FIFO or a link in at a submission's path in the instant between the
 * validator's check of the path and its open (a hook placed there, so the race is won every time): the validator's
 * thread does not block, the file is refused with one line, and the refusal is what a replay finds too.
 */
class SubmissionOpenRacesTest {
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

    @Test
    void aFifoSwappedInBetweenTheCheckAndTheOpenDoesNotBlockTheValidator() throws Exception {
        SubmissionStore store = SubmissionStore.archiving(dir.resolve("store"), dir.resolve("archive"));
        Hash32 hash = planted(store, "a submission's bytes");
        NativeFile.beforeOpen(p -> {
            if (p.equals(store.path(hash))) {
                SpecialFiles.replace(p, () -> SpecialFiles.fifo(p));
            }
        });
        Submission.Rejected refused = assertTimeoutPreemptively(HANG,
                () -> assertThrows(Submission.Rejected.class, () -> store.fetch(hash, 1 << 20)));
        assertTrue(refused.getMessage().contains("changed into no regular file: refused"), refused.getMessage());
        NativeFile.beforeOpen(null);
        Submission.Rejected again = assertThrows(Submission.Rejected.class, () -> store.fetch(hash, 1 << 20));
        assertEquals(refused.getMessage() + " (as when first fetched)", again.getMessage());
    }

    @Test
    void aLinkSwappedInBetweenTheCheckAndTheOpenIsNotFollowed() throws Exception {
        SubmissionStore store = SubmissionStore.readOnly(dir.resolve("store"), dir.resolve("archive"));
        Hash32 hash = planted(store, "a submission's bytes");
        Path elsewhere = Files.writeString(dir.resolve("elsewhere.pth"), "a submission's bytes");
        NativeFile.beforeOpen(p -> {
            if (p.equals(store.path(hash))) {
                SpecialFiles.replace(p, () -> Files.createSymbolicLink(p, elsewhere));
            }
        });
        Submission.Rejected refused = assertThrows(Submission.Rejected.class, () -> store.verified(hash, 1 << 20));
        assertTrue(refused.getMessage().contains("changed into a symbolic link: refused"), refused.getMessage());
    }

    private static Hash32 planted(SubmissionStore store, String content) throws Exception {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        Hash32 hash = Hash32.sha256(bytes);
        Files.createDirectories(store.dir());
        Files.write(store.path(hash), bytes);
        return hash;
    }
}
