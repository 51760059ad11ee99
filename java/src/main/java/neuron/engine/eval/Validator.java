package neuron.engine.eval;

import neuron.engine.chain.Block;
import neuron.engine.chain.BlockEvent;
import neuron.engine.chain.BlockJournal;
import neuron.engine.chain.Evaluation;
import neuron.engine.chain.Hash32;
import neuron.engine.chain.WindowEvaluated;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.train.Devices;
import neuron.engine.train.LlamaModel;
import neuron.engine.train.StateTrees;
import neuron.engine.train.TokenData;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads;
import static org.bytedeco.pytorch.global.torch.empty;
import static org.bytedeco.pytorch.global.torch.set_num_threads;

/**
 * A validator's whole state and what it does with each block: model, scores, weights, {@code global_step} (the
 * windows evaluated), the last block, and the next window due. {@link #onBlock} is the same code live and in a
 * replay; only where the list of submissions of a window comes from differs (the store live, the journal in a
 * replay), so a validator restarted from a checkpoint and its journal reaches the state it had, bit for bit.
 */
public final class Validator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Validator.class);

    private final ValidatorConfig config;
    private final LlamaModel model;
    private final WindowEvaluator evaluator;
    private final float[] scores;
    private final float[] weights;
    private long globalStep;
    private long block = -1;
    private Hash32 blockHash = Hash32.ZERO;
    private long nextWindow = -1;
    private Runnable beforeUpdate = () -> {
    };

    private Validator(ValidatorConfig config, String device) {
        this.config = config;
        set_num_threads(config.threads());
        blas_set_num_threads(1);
        this.model = new LlamaModel(config.model(), config.seed(), Devices.resolve(device));
        this.evaluator = new WindowEvaluator(config, model, TokenData.open(config.data()));
        this.scores = new float[config.maxUids()];
        this.weights = new float[config.maxUids()];
    }

    /** The bytes of a validator's checkpoint state: float32 parameters, scores and weights. */
    public static long checkpointBytes(ValidatorConfig config) {
        return Float.BYTES * (config.model().parameterCount() + 2L * config.maxUids());
    }

    /** A fresh validator: the model from the seed (the miners' starting point), zero scores. */
    public static Validator create(ValidatorConfig config, String device) {
        return new Validator(config, device);
    }

    /** The validator a checkpoint describes. Its scores, weights and global_step are taken as they are. */
    public static Validator restore(Map<?, ?> tree, String device) {
        Validator v = new Validator(ValidatorConfig.fromMap(StateTrees.map(tree, "config")), device);
        try {
            v.model.load(StateTrees.map(tree, "model_state_dict"));
            copyInto(StateTrees.tensor(tree, "scores"), v.scores, "scores");
            copyInto(StateTrees.tensor(tree, "weights"), v.weights, "weights");
            v.globalStep = StateTrees.longValue(tree, "global_step");
            v.block = StateTrees.longValue(tree, "block");
            v.blockHash = Hash32.parseHex(StateTrees.as(String.class, tree, "block_hash"));
            v.nextWindow = StateTrees.longValue(tree, "next_window");
            return v;
        } catch (RuntimeException e) {
            v.close();
            throw e;
        }
    }

    private static void copyInto(Tensor t, float[] target, String name) {
        if (t.scalar_type().intern() != ScalarType.Float || t.numel() != target.length) {
            throw new IllegalArgumentException(name + " must be " + target.length + " float32 values");
        }
        new FloatPointer(t.contiguous().data_ptr()).capacity(target.length).get(target);
    }

    /**
     * Acts on one block: evaluates every window that is due at it. Live ({@code replay} null), the submissions
     * are those in the store, and what was evaluated goes to the journal; in a replay, they are the ones the
     * journal recorded. Returns the number of submissions scored.
     */
    public int onBlock(BlockEvent event, SubmissionStore store, BlockJournal journal, JournaledWindows replay) {
        Block b = event.block();
        if (block >= 0 && b.number() != block + 1 && !event.reorg()) {
            LOG.warn("validator: block {} follows block {}", b.number(), block);
        }
        block = b.number();
        blockHash = b.hash();
        if (nextWindow < 0) {
            nextWindow = config.windowOf(block);
        }
        int scored = 0;
        while (config.evaluationBlock(nextWindow) <= block) {
            beforeUpdate.run();
            long window = nextWindow;
            List<WindowEvaluator.Outcome> outcomes;
            if (replay != null && replay.has(window)) {
                outcomes = evaluator.evaluate(window, replay.uids(window), store, replay.hashes(window));
            } else if (replay != null && replay.readOnly) {
                throw new IllegalStateException("window " + window + " is due at block " + block
                        + " but the journal holds no evaluation of it (the validator stopped before evaluating it)");
            } else {
                outcomes = evaluator.evaluate(window, uids(store, window), store, null);
                for (WindowEvaluator.Outcome o : outcomes) {
                    journal.appendEvaluation(new Evaluation(window, o.uid(), o.contentHash(), o.accepted(), o.score()));
                }
                journal.appendWindowEvaluated(new WindowEvaluated(window, outcomes.size()));
            }
            for (WindowEvaluator.Outcome o : outcomes) {
                if (o.uid() >= 0 && o.uid() < scores.length) {
                    scores[o.uid()] = (float) (config.alpha() * scores[o.uid()] + (1 - config.alpha()) * o.score());
                }
            }
            updateWeights();
            globalStep++;
            nextWindow++;
            scored += outcomes.size();
            if (!outcomes.isEmpty()) {
                LOG.info("window {} evaluated at block {}: {} submissions, {} accepted", window, block,
                        outcomes.size(), outcomes.stream().filter(WindowEvaluator.Outcome::accepted).count());
            }
        }
        return scored;
    }

    private static List<Integer> uids(SubmissionStore store, long window) {
        try {
            return store.uids(window);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the submissions in " + store.dir(), e);
        }
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
     * {@code model_state_dict}, {@code scores}, {@code weights} (float32 [max_uids]), {@code config}, {@code seed}.
     * Tensor leaves are live until the next block.
     */
    public Map<String, Object> state() {
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("global_step", globalStep);
        tree.put("block", block);
        tree.put("block_hash", blockHash.toHex());
        tree.put("next_window", nextWindow);
        tree.put("model_state_dict", new PyOrderedDict(model.stateDict()));
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
    }

    /** The evaluations a journal recorded for completed windows: what a replay evaluates again. */
    public static final class JournaledWindows {
        private final Map<Long, List<Evaluation>> byWindow = new HashMap<>();
        private final boolean readOnly;

        /**
         * @param readOnly true for the replay tool: a window the journal did not record stops the replay;
         *                 false for a restart: such a window is evaluated live and journaled
         */
        public JournaledWindows(boolean readOnly) {
            this.readOnly = readOnly;
        }

        /** Takes the records journaled after one block: for each completed window, its last {@code n} evaluations. */
        public void add(List<Evaluation> evaluations, List<WindowEvaluated> completed) {
            for (WindowEvaluated done : completed) {
                List<Evaluation> ofWindow = new ArrayList<>();
                for (Evaluation e : evaluations) {
                    if (e.window() == done.window()) {
                        ofWindow.add(e);
                    }
                }
                // A window the validator began before a crash and evaluated again after it has two lists: the last wins.
                byWindow.put(done.window(), ofWindow.subList(Math.max(0, ofWindow.size() - done.evaluations()),
                        ofWindow.size()));
            }
        }

        boolean has(long window) {
            return byWindow.containsKey(window);
        }

        List<Integer> uids(long window) {
            return byWindow.get(window).stream().map(Evaluation::uid).toList();
        }

        Map<Integer, Hash32> hashes(long window) {
            Map<Integer, Hash32> out = new HashMap<>();
            byWindow.get(window).forEach(e -> out.put(e.uid(), e.contentHash()));
            return out;
        }
    }
}
