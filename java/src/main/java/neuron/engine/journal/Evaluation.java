package neuron.engine.journal;

import java.util.Objects;
import neuron.engine.network.Hash32;

/**
 * One submission the validator evaluated for a window, as journaled so that a replay uses exactly the same ones:
 * which miner ({@code uid}), which content ({@code contentHash}, e.g. SHA-256 of the .pth), whether it was accepted
 * and the score it got.
 */
public record Evaluation(long window, int uid, Hash32 contentHash, boolean accepted, double score) {
    public Evaluation {
        Objects.requireNonNull(contentHash, "contentHash");
    }
}
