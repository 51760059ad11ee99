package neuron.engine.validator;

import neuron.engine.model.LlamaModel;
import neuron.engine.model.TokenData;
import neuron.engine.network.Hash32;
import neuron.engine.network.Submission;
import neuron.engine.network.SubmissionStore;
import neuron.engine.network.WindowData;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

import static org.bytedeco.pytorch.global.torch.empty;

/**
 * Scores the updates committed for one window against the window's base model (the validator's model, which it
 * leaves exactly as it found it). For each update it measures the relative drop in loss on the miner's assigned
 * rows ({@code own}) and on the validator's rows ({@code other}):
 * <pre>
 * gain(rows) = (loss_base(rows) - loss_base+delta(rows)) / loss_base(rows)
 * score      = gain(other)  if gain(own) > gain(other) > 0,  else 0
 * </pre>
 * An update that helps elsewhere without helping its own assignment more was not trained on it; one that does not
 * help elsewhere does not help the network. The accepted updates (score > 0) are averaged into the window's
 * aggregate. Deterministic: uids ascending, the same ops in the same order, inputs fixed by the chain.
 */
final class WindowEvaluator {
    private static final Logger LOG = LoggerFactory.getLogger(WindowEvaluator.class);

    enum Status {
        ACCEPTED("accepted"), NOT_BETTER("not better"), OUT_OF_SYNC("out of sync"), INVALID("invalid");

        private final String words;

        Status(String words) {
            this.words = words;
        }
    }

    /** One committed update's outcome; the gains are NaN when it was not measured. */
    record Outcome(int uid, Hash32 hash, Status status, double score, double ownGain, double otherGain) {
        boolean accepted() {
            return status == Status.ACCEPTED;
        }

        /** "uid 1 accepted (score 0.0123)", "uid 2 not better": what the window's log line says of it. */
        String describe() {
            return "uid " + uid + " " + status.words + (accepted()
                    ? String.format(java.util.Locale.ROOT, " (score %.4g)", score) : "");
        }
    }

    private final ValidatorConfig config;
    private final LlamaModel model;
    private final TokenData data;
    private final Map<String, long[]> shapes;
    private final long maxFileBytes;
    private final Tensor[] heldOut;

    WindowEvaluator(ValidatorConfig config, LlamaModel model, TokenData data) {
        this.config = config;
        this.model = model;
        this.data = data;
        this.shapes = LlamaModel.shapes(config.model());
        // an update is one float32 per parameter plus a small pickle; twice that is generous and still bounded
        this.maxFileBytes = 2L * Float.BYTES * config.model().parameterCount() + (1 << 20);
        long[] tokens = new long[config.heldOutRows() * width()];
        WindowData.heldOut(data, config.seed(), config.heldOutRows(), width(), tokens);
        this.heldOut = batch(tokens, config.heldOutRows());
    }

    /**
     * Scores {@code committed} (uid -> content hash, uids ascending) for {@code window} against the model, whose
     * hash is {@code base}; writes the mean of the accepted updates into {@code aggregate} (tensors shaped like the
     * model) and returns the outcomes in uid order. {@code aggregate} is left untouched when none is accepted.
     */
    List<Outcome> evaluate(long window, SortedMap<Integer, Hash32> committed, Hash32 base, SubmissionStore store,
                           Map<String, Tensor> aggregate) {
        List<Outcome> outcomes = new ArrayList<>();
        if (committed.isEmpty()) {
            return outcomes;
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            Map<String, Tensor> params = model.stateDict();
            Map<String, Tensor> saved = new LinkedHashMap<>();
            params.forEach((name, p) -> saved.put(name, p.clone()));
            Tensor[] other = otherRows(window);
            double otherBefore = loss(other);
            int accepted = 0;
            for (Map.Entry<Integer, Hash32> c : committed.entrySet()) {
                Measured m = measure(window, c.getKey(), c.getValue(), base, store, other, otherBefore, params, saved);
                if (m.outcome().accepted()) {
                    boolean first = accepted++ == 0;
                    aggregate.forEach((name, sum) -> {
                        Tensor d = m.delta().get(name).to(sum.device(), ScalarType.Float);
                        if (first) {
                            sum.copy_(d);
                        } else {
                            sum.add_(d);
                        }
                    });
                }
                outcomes.add(m.outcome());
            }
            if (accepted > 1) {
                Scalar n = new Scalar((double) accepted);
                aggregate.values().forEach(t -> t.div_(n));
            }
        }
        return outcomes;
    }

    /** An outcome and, when it was read, the update's delta. */
    private record Measured(Outcome outcome, Map<String, Tensor> delta) {
        static Measured failed(Outcome outcome) {
            return new Measured(outcome, null);
        }
    }

    private Measured measure(long window, int uid, Hash32 hash, Hash32 base, SubmissionStore store, Tensor[] other,
                             double otherBefore, Map<String, Tensor> params, Map<String, Tensor> saved) {
        try {
            if (uid >= config.maxUids()) {
                throw new Submission.Rejected("uid " + uid + " is outside 0.." + (config.maxUids() - 1));
            }
            Submission s = Submission.read(store.fetch(hash, maxFileBytes), uid, window, shapes);
            if (!s.base().equals(base)) {
                LOG.warn("update of uid {} for window {} is OUT OF SYNC, scored 0: made against base {}, the network's "
                        + "base is {}", uid, window, s.base(), base);
                return Measured.failed(new Outcome(uid, hash, Status.OUT_OF_SYNC, 0, Double.NaN, Double.NaN));
            }
            Tensor[] own = ownRows(uid, window);
            double ownBefore = loss(own);
            params.forEach((name, p) -> p.add_(s.delta().get(name).to(p.device(), ScalarType.Float)));
            double ownAfter = loss(own);
            double otherAfter = loss(other);
            params.forEach((name, p) -> p.copy_(saved.get(name)));
            if (!Double.isFinite(ownAfter) || !Double.isFinite(otherAfter)) {
                // finite values can still overflow in the forward pass; a NaN score would poison the average
                throw new Submission.Rejected("the loss after applying it is not finite");
            }
            double ownGain = (ownBefore - ownAfter) / ownBefore;
            double otherGain = (otherBefore - otherAfter) / otherBefore;
            double score = ownGain > otherGain && otherGain > 0 ? otherGain : 0;
            Status status = score > 0 ? Status.ACCEPTED : Status.NOT_BETTER;
            return new Measured(new Outcome(uid, hash, status, score, ownGain, otherGain), s.delta());
        } catch (Submission.Rejected e) {
            LOG.warn("update of uid {} for window {} rejected, scored 0: {}", uid, window, e.getMessage());
            return Measured.failed(new Outcome(uid, hash, Status.INVALID, 0, Double.NaN, Double.NaN));
        }
    }

    /** The model's loss on the held-out rows. */
    double heldOutLoss() {
        try (NoGradGuard noGrad = new NoGradGuard()) {
            return loss(heldOut);
        }
    }

    private Tensor[] ownRows(int uid, long window) {
        long[] tokens = new long[config.assignedRows() * width()];
        WindowData.assigned(data, config.seed(), uid, window, config.assignedRows(), width(), tokens);
        return batch(tokens, config.assignedRows());
    }

    private Tensor[] otherRows(long window) {
        long[] tokens = new long[config.evalRows() * width()];
        WindowData.own(data, config.seed(), window, config.evalRows(), width(), tokens);
        return batch(tokens, config.evalRows());
    }

    private int width() {
        return config.model().seqLen() + 1;
    }

    /** Inputs and targets of {@code rows} rows of tokens, on the model's device. */
    private Tensor[] batch(long[] tokens, int rows) {
        Tensor host = empty(new long[]{rows, width()}, new TensorOptions(ScalarType.Long), null);
        new LongPointer(host.data_ptr()).capacity(tokens.length).put(tokens);
        Tensor onDevice = host.to(model.device(), ScalarType.Long);
        int seq = config.model().seqLen();
        return new Tensor[]{onDevice.narrow(1, 0, seq), onDevice.narrow(1, 1, seq)};
    }

    private double loss(Tensor[] batch) {
        return model.loss(batch[0], batch[1]).item_float();
    }
}
