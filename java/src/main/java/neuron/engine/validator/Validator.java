package neuron.engine.validator;

import neuron.engine.chain.Block;
import neuron.engine.chain.BlockEvent;
import neuron.engine.model.Devices;
import neuron.engine.model.LlamaModel;
import neuron.engine.model.StateTrees;
import neuron.engine.model.TokenData;
import neuron.engine.network.Commitment;
import neuron.engine.network.Hash32;
import neuron.engine.network.ModelHash;
import neuron.engine.network.SubmissionStore;
import neuron.engine.network.WindowSchedule;
import neuron.engine.pth.PyOrderedDict;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Consumer;

import static org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads;
import static org.bytedeco.pytorch.global.torch.empty;
import static org.bytedeco.pytorch.global.torch.set_num_threads;
import static org.bytedeco.pytorch.global.torch.zeros_like;

/**
 * A validator's whole state and what it does with each block. The state: the network's base model of the next
 * window to evaluate, the aggregate waiting to be added to it, the updates committed for windows not evaluated
 * yet, scores (the moving average of each miner's window scores), weights, {@code global_step} (windows
 * evaluated), the last block and the next window due.
 *
 * <p>The base follows the window protocol with one window of lag: B(w+1) = B(w) + A(w-1), where A(w) is the mean
 * of the updates accepted for window w (each made against B(w)), and B(0) = B(1) is the model drawn from the
 * seed. So when window w is evaluated (at a block of window w+1) its base B(w) is at hand, and A(w) has a whole
 * window to reach the miners before they start window w+2 from B(w+2).
 *
 * <p>{@link #onBlock} takes only what the chain says (the block and the commitments it includes) and the store's
 * bytes by hash, so validators that see the same chain reach the same state, whenever they look and however
 * often they crash.
 */
public final class Validator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Validator.class);
    /** What a checkpoint must hold to be a validator's (the keys of the reference system's). */
    private static final List<String> ROLE_KEYS = List.of("model_state_dict", "scores", "weights");
    /** Where on the chain a checkpoint was taken; one written by another tool may lack them. */
    private static final List<String> POSITION_KEYS = List.of("block", "block_hash", "next_window", "base_hash",
            "pending_aggregate", "pending_base_hash", "commitments");

    private final ValidatorConfig config;
    private final LlamaModel model;
    private final WindowEvaluator evaluator;
    private final float[] scores;
    private final float[] weights;
    /** A(next_window - 1), added to the model after the next evaluation; zero when pendingBase equals base. */
    private Map<String, Tensor> pending;
    /** Where the evaluation of the next window writes its aggregate. */
    private Map<String, Tensor> scratch;
    private Hash32 base;
    private Hash32 pendingBase;
    /** Committed updates of windows not evaluated yet: window -> uid -> content hash (the last per uid). */
    private final SortedMap<Long, SortedMap<Integer, Hash32>> committed = new TreeMap<>();
    private long globalStep;
    private long block = -1;
    private Hash32 blockHash = Hash32.ZERO;
    private long nextWindow = -1;
    private List<String> positionUnknown = List.of();
    private double heldOutLoss = Double.NaN;
    private Runnable beforeUpdate = () -> {
    };

    /** One evaluated window: its outcomes and aggregate (null when none was accepted; valid until the next block). */
    record Evaluated(long window, long block, List<WindowEvaluator.Outcome> outcomes, Map<String, Tensor> aggregate,
                     Hash32 baseAfterAggregate, double heldOutLoss) {
    }

    private Validator(ValidatorConfig config, String device) {
        this.config = config;
        set_num_threads(config.threads());
        blas_set_num_threads(1);
        this.model = new LlamaModel(config.model(), config.seed(), Devices.resolve(device));
        this.evaluator = new WindowEvaluator(config, model, TokenData.open(config.data()));
        this.scores = new float[config.maxUids()];
        this.weights = new float[config.maxUids()];
        this.pending = zerosLikeModel();
        this.scratch = zerosLikeModel();
        this.base = ModelHash.of(model.stateDict());
        this.pendingBase = base;
    }

    private Map<String, Tensor> zerosLikeModel() {
        Map<String, Tensor> zeros = new LinkedHashMap<>();
        model.stateDict().forEach((name, p) -> zeros.put(name, zeros_like(p)));
        return Collections.unmodifiableMap(zeros);
    }

    /** The bytes of a validator's checkpoint state: float32 model and pending aggregate, scores and weights. */
    public static long checkpointBytes(ValidatorConfig config) {
        return Float.BYTES * (2 * config.model().parameterCount() + 2L * config.maxUids());
    }

    /** A fresh validator: the model drawn from the seed (the network's first base), zero scores. */
    public static Validator create(ValidatorConfig config, String device) {
        return new Validator(config, device);
    }

    /**
     * The validator a checkpoint describes; its scores, weights and global_step are taken as they are. A
     * checkpoint with only the reference system's keys ({@code model_state_dict}, {@code global_step},
     * {@code scores}, {@code weights}) gets the rest from the chain at its first block ({@link #positionUnknown}).
     * {@code flags} configure what the checkpoint does not.
     *
     * @throws IllegalArgumentException saying why, when the checkpoint is not a validator's or does not fit
     */
    public static Validator restore(Map<?, ?> tree, ValidatorConfig flags, String device) {
        for (String key : ROLE_KEYS) {
            if (!tree.containsKey(key)) {
                throw new IllegalArgumentException("it has no '" + key + "', so it is not a validator's checkpoint (a "
                        + "validator's holds " + String.join(", ", ROLE_KEYS) + ")");
            }
        }
        if (tree.containsKey("optimizer_state_dict")) {
            throw new IllegalArgumentException("it holds an optimizer_state_dict: it is a miner's checkpoint");
        }
        ValidatorConfig config = tree.get("config") instanceof Map<?, ?> saved ? ValidatorConfig.fromMap(saved, flags)
                : flags;
        Validator v = new Validator(config, device);
        try {
            v.model.load(StateTrees.map(tree, "model_state_dict"));
            copyInto(StateTrees.tensor(tree, "scores"), v.scores, "scores");
            copyInto(StateTrees.tensor(tree, "weights"), v.weights, "weights");
            v.globalStep = tree.containsKey("global_step") ? StateTrees.longValue(tree, "global_step") : 0;
            v.base = ModelHash.of(v.model.stateDict());
            v.pendingBase = v.base;
            List<String> missing = POSITION_KEYS.stream().filter(k -> !tree.containsKey(k)).toList();
            if (!missing.isEmpty()) {
                v.positionUnknown = missing;
                return v;
            }
            if (!v.base.toHex().equals(StateTrees.as(String.class, tree, "base_hash"))) {
                throw new IllegalArgumentException("its base_hash " + tree.get("base_hash")
                        + " is not the hash of its model_state_dict (" + v.base + ")");
            }
            v.block = StateTrees.longValue(tree, "block");
            v.blockHash = Hash32.parseHex(StateTrees.as(String.class, tree, "block_hash"));
            v.nextWindow = StateTrees.longValue(tree, "next_window");
            v.pendingBase = Hash32.parseHex(StateTrees.as(String.class, tree, "pending_base_hash"));
            Map<?, ?> aggregate = StateTrees.map(tree, "pending_aggregate");
            v.pending.forEach((name, t) -> t.copy_(StateTrees.tensor(aggregate, name)));
            for (Object entry : StateTrees.list(tree, "commitments")) {
                if (!(entry instanceof List<?> c) || c.size() != 3 || !(c.get(0) instanceof Number window)
                        || !(c.get(1) instanceof Number uid) || !(c.get(2) instanceof String hash)) {
                    throw new IllegalArgumentException("its commitments are not [window, uid, hash] lists");
                }
                v.committed.computeIfAbsent(window.longValue(), w -> new TreeMap<>())
                        .put(uid.intValue(), Hash32.parseHex(hash));
            }
            return v;
        } catch (RuntimeException e) {
            v.close();
            throw e;
        }
    }

    private static void copyInto(Tensor t, float[] target, String name) {
        if (!t.is_floating_point() || t.dim() != 1 || t.numel() != target.length) {
            throw new IllegalArgumentException(name + " must be " + target.length + " floats (one per uid), not "
                    + t.scalar_type().intern() + " " + Arrays.toString(t.sizes().vec().get()));
        }
        Tensor floats = t.to(ScalarType.Float).contiguous();
        new FloatPointer(floats.data_ptr()).capacity(target.length).get(target);
    }

    /**
     * Acts on one block: takes note of the updates it includes and evaluates every window due at it, telling
     * {@code evaluated} about each. Returns the number of updates scored.
     */
    public int onBlock(BlockEvent event, SubmissionStore store, Consumer<Evaluated> evaluated) {
        Block b = event.block();
        if (block >= 0 && b.number() != block + 1 && !event.reorg()) {
            LOG.warn("validator: block {} follows block {}", b.number(), block);
        }
        block = b.number();
        blockHash = b.hash();
        WindowSchedule schedule = config.schedule();
        if (!positionUnknown.isEmpty()) {
            nextWindow = schedule.windowOf(block) + 1;
            LOG.info("validator: the checkpoint lacks {}; taken from the chain: block {} ({}), the next window "
                    + "evaluated is {}, and the base is its model_state_dict ({})", String.join(", ", positionUnknown),
                    block, blockHash, nextWindow, base);
            positionUnknown = List.of();
        } else if (nextWindow < 0) {
            nextWindow = schedule.windowOf(block);
        }
        note(b);
        int scored = 0;
        while (schedule.evaluationBlock(nextWindow) <= block) {
            scored += evaluate(nextWindow, store, evaluated);
        }
        return scored;
    }

    /** Takes note of the updates a block includes: those for the block's own window count, the last per uid. */
    private void note(Block b) {
        long window = config.schedule().windowOf(b.number());
        for (Commitment c : b.commitments()) {
            if (c.kind() != Commitment.Kind.UPDATE) {
                continue;
            }
            if (c.window() != window) {
                LOG.info("block {}: the {} does not count: a block of window {} included it", b.number(), c, window);
            } else if (window >= nextWindow) {
                committed.computeIfAbsent(window, w -> new TreeMap<>()).put(c.uid(), c.hash());
            }
        }
    }

    private int evaluate(long window, SubmissionStore store, Consumer<Evaluated> evaluated) {
        beforeUpdate.run();
        SortedMap<Integer, Hash32> updates = committed.remove(window);
        List<WindowEvaluator.Outcome> outcomes = evaluator.evaluate(window,
                updates == null ? Collections.emptySortedMap() : updates, base, store, scratch);
        boolean accepted = outcomes.stream().anyMatch(WindowEvaluator.Outcome::accepted);
        double[] windowScores = new double[scores.length];
        outcomes.stream().filter(o -> o.uid() < scores.length).forEach(o -> windowScores[o.uid()] = o.score());
        for (int uid = 0; uid < scores.length; uid++) { // every uid: a miner that stops submitting loses its weight
            scores[uid] = (float) (config.alpha() * scores[uid] + (1 - config.alpha()) * windowScores[uid]);
        }
        updateWeights();
        try (NoGradGuard noGrad = new NoGradGuard()) {
            if (!pendingBase.equals(base)) {
                model.stateDict().forEach((name, p) -> p.add_(pending.get(name)));
                base = pendingBase;
            }
            Map<String, Tensor> aggregate = scratch;
            scratch = pending;
            pending = aggregate;
            if (accepted) {
                pendingBase = ModelHash.of(model.stateDict(), pending);
            } else {
                pending.values().forEach(Tensor::zero_);
                pendingBase = base;
            }
        }
        heldOutLoss = evaluator.heldOutLoss();
        globalStep++;
        nextWindow++;
        LOG.info("window {} evaluated at block {}: {}; the network's held-out loss {}", window, block,
                outcomes.isEmpty() ? "no updates" : String.join(", ",
                        outcomes.stream().map(WindowEvaluator.Outcome::describe).toList()),
                String.format(Locale.ROOT, "%.4f", heldOutLoss));
        evaluated.accept(new Evaluated(window, block, outcomes, accepted ? pending : null, pendingBase, heldOutLoss));
        return outcomes.size();
    }

    /** weights = positive scores, normalised (zero when no score is positive). */
    private void updateWeights() {
        double sum = 0;
        for (float s : scores) {
            sum += positive(s);
        }
        for (int i = 0; i < scores.length; i++) {
            weights[i] = sum > 0 ? (float) (positive(scores[i]) / sum) : 0f;
        }
    }

    private static float positive(float score) {
        return Float.isFinite(score) && score > 0 ? score : 0f;
    }

    /**
     * Runs {@code barrier} before each window's evaluation, which changes the model (the scores and weights a
     * snapshot holds are copies taken by {@link #state()}): the checkpointer's {@code awaitStaging}.
     */
    public void beforeUpdate(Runnable barrier) {
        this.beforeUpdate = barrier;
    }

    /**
     * The checkpoint tree: {@code global_step}, {@code block}, {@code block_hash}, {@code next_window},
     * {@code base_hash}, {@code model_state_dict} (the base of window next_window), {@code pending_aggregate},
     * {@code pending_base_hash} (the base once it is added), {@code commitments} ([window, uid, hash] of the
     * updates committed for windows not evaluated yet), {@code scores}, {@code weights} (float32 [max_uids]),
     * {@code config}, {@code seed}. Tensor leaves are live until the next block.
     */
    public Map<String, Object> state() {
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("global_step", globalStep);
        tree.put("block", block);
        tree.put("block_hash", blockHash.toHex());
        tree.put("next_window", nextWindow);
        tree.put("base_hash", base.toHex());
        tree.put("model_state_dict", new PyOrderedDict(LlamaModel.withTiedHead(model.config(), model.stateDict())));
        tree.put("pending_aggregate", new PyOrderedDict(pending));
        tree.put("pending_base_hash", pendingBase.toHex());
        List<Object> commitments = new ArrayList<>();
        committed.forEach((window, byUid) -> byUid.forEach((uid, hash) ->
                commitments.add(List.of(window, (long) uid, hash.toHex()))));
        tree.put("commitments", commitments);
        tree.put("scores", floats(scores));
        tree.put("weights", floats(weights));
        tree.put("config", config.toMap());
        tree.put("seed", config.seed());
        return tree;
    }

    private static Tensor floats(float[] values) {
        Tensor t = empty(new long[]{values.length}, new TensorOptions(ScalarType.Float), null);
        new FloatPointer(t.data_ptr()).capacity(values.length).put(values);
        return t;
    }

    /** The hash of the last block acted on (zero before the first). */
    public Hash32 blockHash() {
        return blockHash;
    }

    public long block() {
        return block;
    }

    public long globalStep() {
        return globalStep;
    }

    public ValidatorConfig config() {
        return config;
    }

    /** The keys a restored checkpoint lacked, which the first block supplies; empty otherwise. */
    public List<String> positionUnknown() {
        return positionUnknown;
    }

    /** The network's loss on the held-out rows after the last window evaluated; NaN before the first. */
    public double heldOutLoss() {
        return heldOutLoss;
    }

    /** Non-zero scores by uid. */
    public Map<Integer, Double> scores() {
        return nonZero(scores);
    }

    /** Non-zero weights by uid. */
    public Map<Integer, Double> weights() {
        return nonZero(weights);
    }

    private static Map<Integer, Double> nonZero(float[] values) {
        Map<Integer, Double> out = new LinkedHashMap<>();
        for (int i = 0; i < values.length; i++) {
            if (values[i] != 0f) {
                out.put(i, (double) values[i]);
            }
        }
        return out;
    }

    @Override
    public void close() {
        model.close();
        pending.values().forEach(Tensor::close);
        scratch.values().forEach(Tensor::close);
    }
}
