package neuron.engine.validator;

import neuron.engine.chain.Block;
import neuron.engine.network.Aggregate;
import neuron.engine.network.ChainUnavailableException;
import neuron.engine.network.ChainWeights;
import neuron.engine.network.Commitment;
import neuron.engine.network.Hash32;
import neuron.engine.network.SubmissionStore;
import neuron.engine.network.WindowChain;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a validator does on the chain besides following it: it publishes each window's aggregate for the miners
 * (the file in the store, then its hash committed; a zero aggregate is committed as {@link Hash32#ZERO}) and, once
 * it has caught up with the chain, sets its weights every {@code weightsInterval} windows. None of this changes
 * the validator's state. A commitment that no block up to two windows past the chain's head at sending
 * includes is sent again; a call the chain could not take is logged and left to the next occasion.
 */
final class ValidatorDuties {
    private static final Logger LOG = LoggerFactory.getLogger(ValidatorDuties.class);
    /** Windows whose own aggregate commitment was seen are remembered this far back. */
    private static final long REMEMBERED_WINDOWS = 1_000;

    private final WindowChain chain;
    private final SubmissionStore store;
    private final int uid;
    private final int weightsInterval;
    private final int blocksPerWindow;
    private final NavigableSet<Long> seen = new TreeSet<>();
    /** Aggregate commitments sent and not yet seen in a block, with the chain's head when they were sent. */
    private final SortedMap<Long, Sent> unconfirmed = new TreeMap<>();

    private record Sent(Commitment commitment, long headAtSending) {
    }

    ValidatorDuties(WindowChain chain, SubmissionStore store, int uid, int weightsInterval, int blocksPerWindow) {
        if (weightsInterval < 1) {
            throw new IllegalArgumentException("--weights_interval must be at least 1 window, got " + weightsInterval);
        }
        this.chain = chain;
        this.store = store;
        this.uid = uid;
        this.weightsInterval = weightsInterval;
        this.blocksPerWindow = blocksPerWindow;
    }

    /** Notes the validator's own aggregate commitments that a block includes. */
    void onBlock(Block block) {
        for (Commitment c : block.commitments()) {
            if (c.kind() == Commitment.Kind.AGGREGATE && c.uid() == uid) {
                seen.add(c.window());
                unconfirmed.remove(c.window());
            }
        }
        seen.headSet(seen.isEmpty() ? 0 : seen.last() - REMEMBERED_WINDOWS).clear();
    }

    /** Publishes a window just evaluated; with {@code caughtUp}, sets the weights when they are due. */
    void windowEvaluated(Validator.Evaluated e, Validator validator, boolean caughtUp) {
        if (!seen.contains(e.window())) {
            try {
                Hash32 hash = e.aggregate() == null ? Hash32.ZERO : publish(e);
                send(new Commitment(Commitment.Kind.AGGREGATE, uid, e.window(), hash));
            } catch (IOException failure) {
                LOG.error("cannot put the aggregate of window {} in the store {}: {}", e.window(), store.dir(),
                        failure.getMessage());
            }
        }
        if (caughtUp && (e.window() + 1) % weightsInterval == 0) {
            setWeights(validator.weights(), e.block());
        }
    }

    /** Sends again what no block included up to two windows past the head at sending. */
    void afterBlock(long block) {
        List<Sent> overdue = new ArrayList<>();
        unconfirmed.values().stream().filter(s -> s.headAtSending() + 2L * blocksPerWindow < block).forEach(overdue::add);
        for (Sent s : overdue) {
            LOG.warn("the {} is in no block up to {}: sending it again", s.commitment(), block);
            send(s.commitment());
        }
    }

    private Hash32 publish(Validator.Evaluated e) throws IOException {
        try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> cpu = new LinkedHashMap<>();
            e.aggregate().forEach((name, t) -> cpu.put(name, t.cpu()));
            return store.put(Aggregate.tree(e.window(), e.baseAfterAggregate(), cpu));
        }
    }

    private void send(Commitment commitment) {
        long head = chain.head();
        unconfirmed.put(commitment.window(), new Sent(commitment, Math.max(0, head)));
        if (head < 0) {
            return;  // not connected yet: sent again later
        }
        try {
            chain.commit(commitment);
        } catch (ChainUnavailableException failure) {
            LOG.warn("cannot commit the {} now ({}); trying again later", commitment, failure.getMessage());
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void setWeights(Map<Integer, Double> weights, long block) {
        SortedMap<Integer, Integer> values = u16(weights);
        if (values.isEmpty()) {
            LOG.info("no miner has a positive score at block {}: no weights set", block);
            return;
        }
        try {
            chain.setWeights(uid, values);
            LOG.info("weights set on the chain by validator uid {} at block {}: {}", uid, block, values);
        } catch (ChainUnavailableException failure) {
            LOG.warn("cannot set the weights now ({}); they are set again in {} windows", failure.getMessage(),
                    weightsInterval);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Normalised weights as the chain takes them: u16 values summing to exactly 65535, by largest remainder (ties
     * to the lower uid); uids whose share rounds to zero are left out.
     */
    static SortedMap<Integer, Integer> u16(Map<Integer, Double> weights) {
        double total = weights.values().stream().mapToDouble(w -> w > 0 && Double.isFinite(w) ? w : 0).sum();
        SortedMap<Integer, Integer> values = new TreeMap<>();
        if (!(total > 0)) {
            return values;
        }
        Map<Integer, Double> remainders = new TreeMap<>();
        long given = 0;
        for (var e : new TreeMap<>(weights).entrySet()) {
            double w = e.getValue() > 0 && Double.isFinite(e.getValue()) ? e.getValue() : 0;
            double exact = w / total * ChainWeights.TOTAL;
            int floor = (int) Math.floor(exact);
            values.put(e.getKey(), floor);
            remainders.put(e.getKey(), exact - floor);
            given += floor;
        }
        List<Integer> byRemainder = new ArrayList<>(remainders.keySet());
        byRemainder.sort(Comparator.comparing((Integer u) -> remainders.get(u)).reversed()
                .thenComparing(Comparator.naturalOrder()));
        for (int i = 0; given < ChainWeights.TOTAL; i++, given++) {
            values.merge(byRemainder.get(i % byRemainder.size()), 1, Integer::sum);
        }
        values.values().removeIf(v -> v == 0);
        return values;
    }
}
