package neuron.engine.api;

import neuron.engine.chain.BlockEvent;
import neuron.engine.journal.Evaluation;
import neuron.engine.journal.WindowEvaluated;

import java.util.List;

/**
 * A block as {@link NeuronBlocks#next} hands it out. A replayed block comes from the journal, with the
 * evaluations and window markers journaled after it: a restarted validator evaluates exactly those submissions
 * again. A live block came from the chain and is already journaled; its lists are empty, and what the validator
 * evaluates at it goes to {@link NeuronBlocks#journal()}. A block that {@link #rollsBack()} replaces blocks handed
 * out before (the chain reorganised): the state built from them must be rebuilt, from a checkpoint the chain still
 * has ({@link NeuronBlocks#onChain}), then {@link NeuronBlocks#replayAfter} its block.
 */
public record JournaledBlock(BlockEvent event, boolean replayed, boolean rollsBack, List<Evaluation> evaluations,
                             List<WindowEvaluated> windowsEvaluated) {
    public JournaledBlock {
        evaluations = List.copyOf(evaluations);
        windowsEvaluated = List.copyOf(windowsEvaluated);
    }

    /** The block's number. */
    public long number() {
        return event.number();
    }
}
