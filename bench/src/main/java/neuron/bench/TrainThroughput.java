package neuron.bench;

import neuron.engine.miner.MinerArguments;
import neuron.engine.miner.MinerLoop;
import neuron.engine.model.ModelConfig;
import neuron.engine.model.ModelFlops;
import neuron.engine.nativeio.LibTorch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;
import java.util.Locale;

import static org.bytedeco.pytorch.global.torch.set_num_threads;

/**
 * The engine's training throughput on one thread: median tokens/s of a miner's steps, the model FLOPs they do,
 * and the best rate of one LibTorch {@code linear} of the MLP's shape measured in the same run, whose ratio is
 * the step's model FLOPs utilisation (MFU). Prints one JSON line.
 *
 * <p>Arguments: model preset, timed steps, precision (fp32 or bf16), linear repetitions.
 */
public final class TrainThroughput {
    private TrainThroughput() {
    }

    public static void main(String[] args) {
        String model = args[0];
        int steps = Integer.parseInt(args[1]);
        String precision = args[2];
        int reps = Integer.parseInt(args[3]);
        LibTorch.load();
        double[] seconds = new double[steps];
        ModelConfig config;
        long tokensPerStep;
        try (MinerLoop loop = MinerLoop.create(MinerArguments.parse("--model", model, "--device", "cpu",
                "--threads", "1", "--precision", precision))) {
            config = loop.options().model();
            tokensPerStep = loop.tokensPerStep();
            loop.step();   // warm-up: allocations, the allocator's caches
            for (int i = 0; i < steps; i++) {
                long start = System.nanoTime();
                loop.step();
                seconds[i] = (System.nanoTime() - start) / 1e9;
            }
        }
        set_num_threads(1);
        double linear = ModelFlops.bestLinearRate(config, tokensPerStep,
                precision.equals("bf16") ? ScalarType.BFloat16 : ScalarType.Float, reps);
        Arrays.sort(seconds);
        double median = seconds[steps / 2];
        double tokensPerSecond = tokensPerStep / median;
        double flops = ModelFlops.perToken(config) * tokensPerSecond;
        System.out.println(String.format(Locale.ROOT, "{\"model\": \"%s\", \"precision\": \"%s\", \"tokens_per_step\": %d, "
                        + "\"median_step_s\": %.4f, \"tokens_per_s\": %.1f, \"model_gflops\": %.2f, "
                        + "\"linear_gflops_best\": %.2f, \"mfu\": %.3f}", model, precision, tokensPerStep, median,
                tokensPerSecond, flops / 1e9, linear / 1e9, flops / linear));
    }
}
