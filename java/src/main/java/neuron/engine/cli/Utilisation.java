package neuron.engine.cli;

import neuron.engine.miner.MinerLoop;
import neuron.engine.model.ModelConfig;
import neuron.engine.model.ModelFlops;

import static org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Model FLOPs utilisation for the status line and the metrics: the model FLOPs a second of the run's tokens/s,
 * over a reference matmul rate ({@code --peak_gflops}, or measured once before the first step). The measurement
 * only labels the figures; nothing is decided by it.
 */
final class Utilisation {
    private static final int REPS = 10;
    /** Rows of the measured linear: a micro-batch's tokens, at most this many, so that start-up stays short. */
    private static final long MAX_ROWS = 2048;

    private final Double givenGflops;
    private double peak = Double.NaN;
    private double flopsPerToken = Double.NaN;

    Utilisation(Double givenGflops) {
        if (givenGflops != null && !(givenGflops > 0 && Double.isFinite(givenGflops))) {
            throw new IllegalArgumentException("--peak_gflops must be a positive number, got " + givenGflops);
        }
        this.givenGflops = givenGflops;
    }

    /** Measures the reference rate (unless given): the best of a few float32 linears of the model's MLP shape. */
    void start(MinerLoop loop) {
        ModelConfig model = loop.options().model();
        flopsPerToken = ModelFlops.perToken(model);
        if (givenGflops != null) {
            peak = givenGflops * 1e9;
        } else if (loop.model().device().is_cpu()) {   // timing a GPU needs its own synchronisation: give the flag
            long rows = Math.min(MAX_ROWS, (long) loop.options().training().batchSize() * model.seqLen());
            peak = ModelFlops.bestLinearRate(model, rows, ScalarType.Float, REPS);
        }
    }

    /** The reference rate in FLOP/s, NaN when neither given nor measured. */
    double peak() {
        return peak;
    }

    /** The fraction of the reference rate that {@code tokensPerSecond} of model FLOPs is (NaN without a rate). */
    double of(double tokensPerSecond) {
        return flopsPerToken * tokensPerSecond / peak;
    }
}
