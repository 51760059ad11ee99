package neuron.engine.checkpoint;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
