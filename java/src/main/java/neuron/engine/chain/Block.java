package neuron.engine.chain;

import java.util.Objects;

/** A chain block as the engine needs it: its number, its hash and its parent's hash. */
public record Block(long number, Hash32 hash, Hash32 parentHash) {
    public Block {
        if (number < 0) {
            throw new IllegalArgumentException("block numbers start at 0, got " + number);
        }
        Objects.requireNonNull(hash, "hash");
        Objects.requireNonNull(parentHash, "parentHash");
    }

    @Override
    public String toString() {
        return "#" + number + " " + hash.toHex().substring(0, 10) + "… (parent " + parentHash.toHex().substring(0, 10) + "…)";
    }
}
