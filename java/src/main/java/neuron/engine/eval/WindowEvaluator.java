package neuron.engine.eval;

import neuron.engine.chain.Hash32;
import neuron.engine.train.LlamaModel;
import neuron.engine.train.TokenData;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.empty;
import static org.bytedeco.pytorch.global.torch.zeros_like;

/**
 * Scores the submissions of one window against the validator's model: the loss of the model on a batch that is
 * a pure function of (seed, window), before and after adding a submission's delta; the drop in loss is the score.
 * Afterwards the model takes the mean delta of the accepted submissions (those that lowered the loss), so it
 * tracks the network. Deterministic: submissions in ascending uid order, the same ops in the same order.
 */
final class WindowEvaluator {
    private static final Logger LOG = LoggerFactory.getLogger(WindowEvaluator.class);
    private static final long EVAL_SALT = 0x5eed_0f_e7a1L;

    /** One submission's outcome. */
    record Outcome(int uid, Hash32 contentHash, boolean accepted, double score) {
    }

    private final ValidatorConfig config;
    private final LlamaModel model;
    private final TokenData data;
    private final Map<String, long[]> shapes;

    WindowEvaluator(ValidatorConfig config, LlamaModel model, TokenData data) {
        this.config = config;
        this.model = model;
        this.data = data;
        this.shapes = LlamaModel.shapes(config.model());
    }

    /**
     * Evaluates {@code uids}' submissions for {@code window}, updates the model with the accepted ones, and returns
     * the outcomes in uid order. Live ({@code journaled} null) each file is taken from the store into its archive
     * first; in a replay, {@code journaled} gives each submission's content hash and the archived copy is read.
     */
    List<Outcome> evaluate(long window, List<Integer> uids, SubmissionStore store, Map<Integer, Hash32> journaled) {
        List<Outcome> outcomes = new ArrayList<>();
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            Map<String, Tensor> params = model.stateDict();
            Map<String, Tensor> saved = new LinkedHashMap<>();
            params.forEach((name, p) -> saved.put(name, p.clone()));
            Tensor[] batch = batch(window);
            double before = loss(batch);
            Map<String, Tensor> acceptedSum = null;
            int accepted = 0;
            for (int uid : uids) {
                Outcome outcome;
                Hash32 hash = Hash32.ZERO;
                try {
                    if (uid < 0 || uid >= config.maxUids()) {
                        throw new Submission.Rejected("uid " + uid + " is outside 0.." + (config.maxUids() - 1));
                    }
                    Path file;
                    if (journaled == null) {
                        SubmissionStore.Archived archived = store.take(window, uid);
                        hash = archived.hash();
                        file = archived.file();
                    } else {
                        hash = journaled.get(uid);
                        file = store.archived(hash);
                        if (!Files.exists(file)) {
                            LOG.error("REPLAY CANNOT BE EXACT: the submission of uid {} for window {} ({}) is no "
                                    + "longer archived in {}", uid, window, hash, file.getParent());
                            throw new Submission.Rejected("no longer archived");
                        }
                    }
                    Submission s = Submission.read(file, hash, uid, window, config.blocksPerWindow(), shapes);
                    params.forEach((name, p) -> p.add_(s.delta().get(name).to(p.device(), ScalarType.Float)));
                    double after = loss(batch);
                    params.forEach((name, p) -> p.copy_(saved.get(name)));
                    if (!Double.isFinite(after)) {
                        // finite values can still overflow in the forward pass; a NaN score would poison the EMA
                        throw new Submission.Rejected("the loss after applying it is " + after);
                    }
                    double score = before - after;
                    boolean improves = score > 0;
                    if (improves) {
                        if (acceptedSum == null) {
                            acceptedSum = new LinkedHashMap<>();
                            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                                acceptedSum.put(e.getKey(), zeros_like(e.getValue()));
                            }
                        }
                        for (Map.Entry<String, Tensor> e : acceptedSum.entrySet()) {
                            e.getValue().add_(s.delta().get(e.getKey()).to(e.getValue().device(), ScalarType.Float));
                        }
                        accepted++;
                    }
                    outcome = new Outcome(uid, hash, improves, score);
                } catch (Submission.Rejected e) {
                    LOG.warn("submission of uid {} for window {} rejected, scored 0: {}", uid, window, e.getMessage());
                    outcome = new Outcome(uid, hash, false, 0.0);
                }
                outcomes.add(outcome);
            }
            if (accepted > 0) {
                int n = accepted;
                acceptedSum.forEach((name, sum) -> params.get(name).add_(sum.div(new org.bytedeco.pytorch.Scalar(n))));
            }
        }
        return outcomes;
    }

    /** Inputs and targets of the window's evaluation batch. */
    private Tensor[] batch(long window) {
        int width = config.model().seqLen() + 1;
        long[] tokens = new long[config.evalRows() * width];
        data.fillBatch(config.seed() ^ EVAL_SALT, window, config.evalRows(), width, tokens);
        Tensor host = empty(new long[]{config.evalRows(), width}, new TensorOptions(ScalarType.Long), null);
        new LongPointer(host.data_ptr()).capacity(tokens.length).put(tokens);
        Tensor onDevice = host.to(model.device(), ScalarType.Long);
        int seq = config.model().seqLen();
        return new Tensor[]{onDevice.narrow(1, 0, seq), onDevice.narrow(1, 1, seq)};
    }

    private double loss(Tensor[] batch) {
        return model.loss(batch[0], batch[1]).item_float();
    }
}
