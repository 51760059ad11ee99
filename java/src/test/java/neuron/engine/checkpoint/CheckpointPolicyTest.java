package neuron.engine.checkpoint;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one place of trigger arithmetic: multiples crossed, the newest checkpoint, a resume from a backup. */
class CheckpointPolicyTest {
    private static List<Long> fired(CheckpointPolicy policy, LongStream progress) {
        List<Long> out = new ArrayList<>();
        progress.filter(policy::due).forEach(out::add);
        return out;
    }

    @Test
    void aFreshLoopCheckpointsAtEveryMultiple() {
        assertEquals(List.of(4L, 8L, 12L), fired(new CheckpointPolicy(4), LongStream.rangeClosed(1, 13)));
    }

    @Test
    void aFeedThatJumpsOverAMultipleCheckpointsAtTheFirstBlockPastIt() {
        assertEquals(List.of(5L, 9L, 12L), fired(new CheckpointPolicy(4), LongStream.of(1, 3, 5, 6, 9, 12)));
    }

    @Test
    void afterTheNewestCheckpointTheNextMultipleIsNext() {
        CheckpointPolicy policy = new CheckpointPolicy(4);
        policy.startFrom(8);
        assertEquals(List.of(12L), fired(policy, LongStream.rangeClosed(9, 13)));
    }

    @Test
    void aResumeFromABackupOrAFetchedFileCountsAsTheNewestCheckpoint() {
        CheckpointPolicy policy = new CheckpointPolicy(4);
        policy.startFrom(-1);    // the file at the checkpoint path was missing or damaged
        policy.resumedAt(8);     // the loop resumed from backup .1 at 8
        assertEquals(List.of(12L), fired(policy, LongStream.rangeClosed(9, 13)));
    }

    @Test
    void theIntervalMustBePositive() {
        assertEquals(1, new CheckpointPolicy(1).interval());
        for (long bad : new long[] {0, -1}) {
            assertEquals("--checkpoint_interval must be positive, got " + bad,
                    assertThrows(IllegalArgumentException.class, () -> new CheckpointPolicy(bad)).getMessage());
        }
    }

    @Test
    void theFirstAnswerFixesTheStartAndALaterNewestCheckpointIsIgnored() {
        CheckpointPolicy fresh = new CheckpointPolicy(4);
        assertEquals(List.of(4L), fired(fresh, LongStream.rangeClosed(1, 4)));
        fresh.startFrom(8);
        assertEquals(List.of(8L), fired(fresh, LongStream.rangeClosed(5, 8)), "started already: 8 is not skipped");

        CheckpointPolicy resumed = new CheckpointPolicy(4);
        resumed.resumedAt(8);
        resumed.startFrom(12);   // the checkpointer's answer comes after the loop's own
        assertEquals(List.of(12L), fired(resumed, LongStream.rangeClosed(9, 12)));
    }

    @Test
    void stagingAdmitsASnapshotWithAnEighthAndOneMebibyteToSpare() {
        CheckpointPolicy policy = new CheckpointPolicy(1);
        long bytes = 8L << 20;
        long needed = bytes + (1L << 20) + (1L << 20);
        assertNull(policy.refusal(needed, bytes));
        assertTrue(policy.refusal(needed - 1, bytes).startsWith("staging has "), policy.refusal(needed - 1, bytes));
        assertNull(policy.refusal(Long.MAX_VALUE / 2, 1L << 40));
    }
}
