package neuron.engine.chain;

import java.util.Objects;

/**
 * A block as a feed delivers it (and as the journal replays it). {@code reorg} is true when the block's parent is
 * not the block delivered just before it: the chain reorganised, and blocks delivered earlier may no longer be on
 * the canonical chain.
 */
public record BlockEvent(Block block, boolean reorg) {
    public BlockEvent {
        Objects.requireNonNull(block, "block");
    }

    public long number() {
        return block.number();
    }
}
