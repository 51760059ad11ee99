package neuron.engine.miner;

import java.util.LinkedHashMap;
import java.util.Map;
import neuron.engine.checkpoint.UsageException;
import neuron.engine.model.StateTrees;

/**
 * Batch, AdamW and schedule settings of a miner; defaults follow the reference miner (betas, decay, clipping).
 * An optimizer step takes {@code gradAccum} micro-batches of {@code batchSize} rows: the update of one batch of
 * {@code batchSize × gradAccum} rows, with the memory of one micro-batch.
 */
public record TrainingOptions(int batchSize, double lr, double beta1, double beta2, double eps, double weightDecay,
                              double gradClip, long warmupSteps, long decaySteps, double minLrRatio, int gradAccum) {

    public TrainingOptions {
        if (batchSize <= 0) {
            throw new UsageException("batch size must be positive, got " + batchSize);
        }
        if (gradAccum <= 0) {
            throw new UsageException("gradient accumulation must be at least 1 micro-batch, got " + gradAccum);
        }
        if (!(lr > 0) || !(gradClip > 0) || !(eps > 0) || weightDecay < 0) {
            throw new UsageException("lr, grad clip and eps must be positive and weight decay non-negative");
        }
        if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) {
            throw new UsageException("betas must lie in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (warmupSteps < 0 || decaySteps <= 0 || minLrRatio < 0 || minLrRatio > 1) {
            throw new UsageException("need warmup >= 0, decay > 0 and 0 <= min lr ratio <= 1");
        }
    }

    /** One micro-batch per optimizer step. */
    public TrainingOptions(int batchSize, double lr, double beta1, double beta2, double eps, double weightDecay,
                           double gradClip, long warmupSteps, long decaySteps, double minLrRatio) {
        this(batchSize, lr, beta1, beta2, eps, weightDecay, gradClip, warmupSteps, decaySteps, minLrRatio, 1);
    }

    public static TrainingOptions defaults() {
        return new TrainingOptions(8, 1e-3, 0.9, 0.95, 1e-8, 0.1, 1.0, 100, 5000, 0.1);
    }

    public TrainingOptions withGradAccum(int newGradAccum) {
        return new TrainingOptions(batchSize, lr, beta1, beta2, eps, weightDecay, gradClip, warmupSteps, decaySteps,
                minLrRatio, newGradAccum);
    }

    public TrainingOptions withBatchSize(int newBatchSize) {
        return new TrainingOptions(newBatchSize, lr, beta1, beta2, eps, weightDecay, gradClip, warmupSteps,
                decaySteps, minLrRatio, gradAccum);
    }

    public TrainingOptions withSchedule(double newLr, long newWarmupSteps, long newDecaySteps, double newMinLrRatio) {
        return new TrainingOptions(batchSize, newLr, beta1, beta2, eps, weightDecay, gradClip, newWarmupSteps,
                newDecaySteps, newMinLrRatio, gradAccum);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("batch_size", (long) batchSize);
        map.put("lr", lr);
        map.put("beta1", beta1);
        map.put("beta2", beta2);
        map.put("eps", eps);
        map.put("weight_decay", weightDecay);
        map.put("grad_clip", gradClip);
        map.put("warmup_steps", warmupSteps);
        map.put("decay_steps", decaySteps);
        map.put("min_lr_ratio", minLrRatio);
        map.put("grad_accum", (long) gradAccum);
        return map;
    }

    public static TrainingOptions fromMap(Map<?, ?> map) {
        return new TrainingOptions(
                StateTrees.intValue(map, "batch_size"),
                StateTrees.doubleValue(map, "lr"),
                StateTrees.doubleValue(map, "beta1"),
                StateTrees.doubleValue(map, "beta2"),
                StateTrees.doubleValue(map, "eps"),
                StateTrees.doubleValue(map, "weight_decay"),
                StateTrees.doubleValue(map, "grad_clip"),
                StateTrees.longValue(map, "warmup_steps"),
                StateTrees.longValue(map, "decay_steps"),
                StateTrees.doubleValue(map, "min_lr_ratio"),
                map.containsKey("grad_accum") ? StateTrees.intValue(map, "grad_accum") : 1);   // older checkpoints: 1
    }
}
