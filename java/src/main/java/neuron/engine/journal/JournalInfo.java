package neuron.engine.journal;

import java.util.List;

/**
 * What a {@link BlockJournal} holds: the first and last journaled block (-1 when empty), how many block records,
 * the missing number ranges between consecutive blocks, how many blocks came flagged as reorgs, how many
 * evaluation records, and how many cycle files.
 */
public record JournalInfo(long firstBlock, long lastBlock, long blocks, List<Gap> gaps, long reorgs, long evaluations,
                          int cycles) {
    public JournalInfo {
        gaps = List.copyOf(gaps);
    }

    public boolean isEmpty() {
        return blocks == 0;
    }

    /** Block numbers {@code from..to} (inclusive) that are not in the journal between two blocks that are. */
    public record Gap(long from, long to) {
    }
}
