package neuron.engine.chain;

import java.util.Objects;

/**
 * A block as a feed delivers it (and as the journal replays it). {@code reorg} is true when the block's parent is
 * not the block delivered just before it: the chain reorganised. When its number is at or below the last one
 * delivered, the blocks delivered from its number on are no longer on the chain, and the block's parent is the
 * common ancestor to roll back to.
 */
public record BlockEvent(Block block, boolean reorg) {
    public BlockEvent {
        Objects.requireNonNull(block, "block");
    }

    public long number() {
        return block.number();
    }
}
