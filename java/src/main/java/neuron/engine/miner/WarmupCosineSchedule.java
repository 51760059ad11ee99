package neuron.engine.miner;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import neuron.engine.model.StateTrees;

/**
 * A {@code LambdaLR} whose lambda is linear warmup then cosine decay to a floor:
 * factor(e) = (e+1)/warmup while e &lt; warmup, then minRatio + (1−minRatio)·½(1+cos(π·min(1, (e−warmup)/decay))).
 * The warmup counts from 1/warmup (nanoGPT's convention) so that step 0 already learns.
 *
 * <p>Like LambdaLR, it starts at last_epoch 0 with _step_count 1 (the constructor's initial step), and each
 * {@link #step()} advances both; the lr it returns goes into the optimizer for the next step.
 */
public final class WarmupCosineSchedule {
    private final double baseLr;
    private final long warmupSteps;
    private final long decaySteps;
    private final double minLrRatio;
    private long lastEpoch;
    private long stepCount;
    private double lastLr;

    public WarmupCosineSchedule(TrainingOptions options) {
        this.baseLr = options.lr();
        this.warmupSteps = options.warmupSteps();
        this.decaySteps = options.decaySteps();
        this.minLrRatio = options.minLrRatio();
        this.lastEpoch = 0;
        this.stepCount = 1;
        this.lastLr = baseLr * factor(0);
    }

    /** The schedule as it stands after {@code epoch} steps ({@code epoch} calls of {@link #step()}). */
    public static WarmupCosineSchedule at(TrainingOptions options, long epoch) {
        WarmupCosineSchedule schedule = new WarmupCosineSchedule(options);
        schedule.lastEpoch = epoch;
        schedule.stepCount = epoch + 1;
        schedule.lastLr = schedule.baseLr * schedule.factor(epoch);
        return schedule;
    }

    public double factor(long epoch) {
        if (epoch < warmupSteps) {
            return (double) (epoch + 1) / warmupSteps;
        }
        double progress = Math.min(1.0, (double) (epoch - warmupSteps) / decaySteps);
        return minLrRatio + (1 - minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }

    /** The lr for the next optimizer step. */
    public double lr() {
        return lastLr;
    }

    public long lastEpoch() {
        return lastEpoch;
    }

    /** {@code scheduler.step()}: advances one epoch and returns the new lr. */
    public double step() {
        stepCount++;
        lastEpoch++;
        lastLr = baseLr * factor(lastEpoch);
        return lastLr;
    }

    /** {@code LambdaLR.state_dict()} (pth-format §10); the lambda itself is a plain function, so None. */
    public Map<String, Object> stateDict() {
        Map<String, Object> dict = new LinkedHashMap<>();
        dict.put("base_lrs", new ArrayList<>(List.of(baseLr)));
        dict.put("last_epoch", lastEpoch);
        dict.put("_step_count", stepCount);
        dict.put("_is_initial", false);
        dict.put("_get_lr_called_within_step", false);
        dict.put("_last_lr", new ArrayList<>(List.of(lastLr)));
        List<Object> lambdas = new ArrayList<>();
        lambdas.add(null);
        dict.put("lr_lambdas", lambdas);
        return dict;
    }

    /** Restores the counters and the last lr; the shape (warmup, decay, floor) comes from the training options. */
    public void loadStateDict(Map<?, ?> dict) {
        List<?> baseLrs = StateTrees.list(dict, "base_lrs");
        if (baseLrs.size() != 1 || ((Number) baseLrs.get(0)).doubleValue() != baseLr) {
            throw new IllegalArgumentException("scheduler base_lrs " + baseLrs + " do not match the training lr " + baseLr);
        }
        lastEpoch = StateTrees.longValue(dict, "last_epoch");
        stepCount = StateTrees.longValue(dict, "_step_count");
        lastLr = ((Number) StateTrees.list(dict, "_last_lr").get(0)).doubleValue();
    }
}
