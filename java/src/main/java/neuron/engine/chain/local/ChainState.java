package neuron.engine.chain.local;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import neuron.engine.network.ChainUnavailableException;
import neuron.engine.network.ChainWeights;
import neuron.engine.network.Commitment;

/**
 * What the embedded chain's blocks include for the window protocol: the commitments of each block, in the order
 * they were included, and each validator's weights by the block that set them. {@link LocalChain} decides which
 * block includes what; {@link LocalRuntime} reads the storage it implies ({@code Commitments.CommitmentOf},
 * {@code SubtensorModule.Weights}) as of any block.
 */
final class ChainState {
    /** Bounds what one block holds (and so what a flood of commitments can make the chain keep). */
    static final int MAX_COMMITMENTS_PER_BLOCK = 4_096;

    /** A uid's newest commitment as of a block, with the block that included it. */
    record Included(long block, Commitment commitment) {
    }

    private final Map<Long, List<Commitment>> commitments = new HashMap<>();
    /** uid → block → the commitment of that uid the block included last. */
    private final Map<Integer, NavigableMap<Long, Commitment>> commitmentsByUid = new TreeMap<>();
    private final Map<Integer, NavigableMap<Long, ChainWeights>> weights = new TreeMap<>();

    synchronized void include(long block, Commitment commitment) throws ChainUnavailableException {
        List<Commitment> included = commitments.computeIfAbsent(block, b -> new ArrayList<>());
        if (included.size() >= MAX_COMMITMENTS_PER_BLOCK) {
            throw new ChainUnavailableException("block " + block + " is full (" + MAX_COMMITMENTS_PER_BLOCK
                    + " commitments); try again in the next one");
        }
        included.add(commitment);
        commitmentsByUid.computeIfAbsent(commitment.uid(), uid -> new TreeMap<>()).put(block, commitment);
    }

    synchronized void include(ChainWeights set) {
        weights.computeIfAbsent(set.validatorUid(), uid -> new TreeMap<>()).put(set.block(), set);
    }

    synchronized List<Commitment> commitmentsIn(long block) {
        List<Commitment> included = commitments.get(block);
        return included == null ? List.of() : List.copyOf(included);
    }

    /** Each uid's newest commitment included at or before {@code block}, by uid. */
    synchronized SortedMap<Integer, Included> commitmentsAsOf(long block) {
        SortedMap<Integer, Included> newest = new TreeMap<>();
        commitmentsByUid.forEach((uid, history) -> {
            Map.Entry<Long, Commitment> entry = history.floorEntry(block);
            if (entry != null) {
                newest.put(uid, new Included(entry.getKey(), entry.getValue()));
            }
        });
        return newest;
    }

    /** Each validator's weights as set at or before {@code block}, by validator uid. */
    synchronized SortedMap<Integer, ChainWeights> weightsAsOf(long block) {
        SortedMap<Integer, ChainWeights> current = new TreeMap<>();
        weights.forEach((uid, history) -> {
            Map.Entry<Long, ChainWeights> entry = history.floorEntry(block);
            if (entry != null) {
                current.put(uid, entry.getValue());
            }
        });
        return current;
    }

    synchronized Optional<ChainWeights> weightsAsOf(int validatorUid, long block) {
        NavigableMap<Long, ChainWeights> history = weights.get(validatorUid);
        Map.Entry<Long, ChainWeights> entry = history == null ? null : history.floorEntry(block);
        return entry == null ? Optional.empty() : Optional.of(entry.getValue());
    }
}
