package neuron.engine.chain;

import java.util.List;
import java.util.Objects;
import neuron.engine.network.Commitment;
import neuron.engine.network.Hash32;

/**
 * A chain block as the engine needs it: its number, its hash, its parent's hash, and the window protocol's
 * commitments it includes, in the order the chain included them.
 */
public record Block(long number, Hash32 hash, Hash32 parentHash, List<Commitment> commitments) {
    public Block {
        if (number < 0) {
            throw new IllegalArgumentException("block numbers start at 0, got " + number);
        }
        Objects.requireNonNull(hash, "hash");
        Objects.requireNonNull(parentHash, "parentHash");
        commitments = List.copyOf(commitments);
    }

    /** A block that includes no commitment. */
    public Block(long number, Hash32 hash, Hash32 parentHash) {
        this(number, hash, parentHash, List.of());
    }

    @Override
    public String toString() {
        return "#" + number + " " + hash.toHex().substring(0, 10) + "… (parent " + parentHash.toHex().substring(0, 10) + "…)"
                + (commitments.isEmpty() ? "" : " with " + commitments.size() + " commitments");
    }
}
