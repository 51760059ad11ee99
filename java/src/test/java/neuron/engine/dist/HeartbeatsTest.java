package neuron.engine.dist;

import neuron.engine.nativeio.LibTorch;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * Whom a rank names when a collective fails, from what the group's store (a real TCPStore on loopback) holds. Two
 * ranks: the one that explains never judges itself, so its verdict on the other depends on no clock.
 */
class HeartbeatsTest {
    private static final RuntimeException RESET = new RuntimeException("Connection reset by peer");
    private static final String NEWEST = "the newest complete checkpoint is global_step 8";

    @BeforeAll
    static void load() {
        LibTorch.load();
    }

    @Test
    void aRankWhoseHeartbeatStoppedIsNamedGone() {
        try (TCPStore store = store(); Heartbeats rank0 = start(store, 0, false)) {
            start(store, 1, false).close();   // rank 1 beat, then died: its counter stands still from now on
            assertEquals("rank 0 of 2 stops: rank 1 of 2 is gone (no heartbeat for 3.0 s) (Connection reset by peer); "
                    + NEWEST + "; start the whole group again to resume there", rank0.explain(RESET, NEWEST).getMessage());
        }
    }

    @Test
    void inALaunchedGroupTheLaunchersWordOnAnExitedRankIsTaken() {
        try (TCPStore store = store(); Heartbeats rank0 = start(store, 0, true); Heartbeats rank1 = start(store, 1, true)) {
            Heartbeats.rankExited(store, 1, 2, 4242, 137);
            Heartbeats.rankExited(store, 0, 2, 4241, 1);   // later exits change nothing: the first verdict stands
            RuntimeException e = rank0.explain(RESET, NEWEST);
            assertInstanceOf(GroupFailure.class, e);
            assertEquals("rank 0 of 2 stops: rank 1 of 2 is gone (pid 4242 was killed by signal 9) (Connection reset "
                    + "by peer); " + NEWEST + "; start the whole group again to resume there", e.getMessage());
        }
    }

    @Test
    void aRankThatSaidItFailedIsNamedWithItsReason() {
        try (TCPStore store = store(); Heartbeats rank0 = start(store, 0, false); Heartbeats rank1 = start(store, 1, false)) {
            rank1.failedHere(new IOException("No space left on device"));
            assertEquals("rank 0 of 2 stops: rank 1 of 2 failed: No space left on device (Connection "
                    + "reset by peer); " + NEWEST + "; start the whole group again to resume there",
                    rank0.explain(RESET, NEWEST).getMessage());
        }
    }

    /** A store served here on a free port. */
    private static TCPStore store() {
        return new TCPStore("127.0.0.1", new TCPStoreOptions().port((short) 0).isServer(true)
                .numWorkers(new SizeTPointer(1).put(1)).waitWorkers(false).timeout(new Milliseconds(30_000)));
    }

    private static Heartbeats start(TCPStore store, int rank, boolean launched) {
        DistConfig config = new DistConfig(rank, 2, rank, "127.0.0.1", store.getPort() & 0xFFFF, launched,
                Duration.ofSeconds(30), 1 << 20);
        return Heartbeats.start(config, store.clone(), store.clone());
    }
}
