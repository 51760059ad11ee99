package neuron.bench;

import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.checkpoint.StateSource;
import neuron.engine.miner.AdamW;
import neuron.engine.miner.MinerArguments;
import neuron.engine.miner.MinerLoop;
import neuron.engine.miner.MinerOptions;
import neuron.engine.model.Devices;
import neuron.engine.model.LlamaModel;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.torch.TensorTreeSource;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

import static org.bytedeco.pytorch.global.torch.randint;
import static org.bytedeco.pytorch.global.torch.set_num_threads;

/**
 * A miner step and the loop's pause to checkpoint the miner's whole state (model, AdamW, schedule), for the
 * {@code tiny} and {@code small} presets (target: checkpoint overhead < 1% of the step time at interval
 * 500). Measuring 500 steps per checkpoint directly would take minutes per sample, so the overhead is derived:
 * {@code checkpointPause ÷ (500 × step)}.
 */
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
public class MinerStepBench {
    @State(Scope.Benchmark)
    public static class Miner {
        @Param({"tiny", "small"})
        public String model;

        MinerLoop loop;

        @Setup(Level.Trial)
        public void create() {
            LibTorch.load();
            loop = MinerLoop.create(MinerArguments.parse("--model", model));
        }

        @TearDown(Level.Trial)
        public void close() {
            loop.close();
        }
    }

    /**
     * The same model and AdamW driven by a bare loop: one fixed batch, no data sampling, schedule, gradient
     * clipping or loss read-back. {@link #step} against {@link #bareStep} bounds what the
     * miner loop's Java orchestration costs.
     */
    @State(Scope.Benchmark)
    public static class Bare {
        LlamaModel model;
        AdamW optimizer;
        Tensor inputs;
        Tensor targets;

        @Setup(Level.Trial)
        public void create(Miner miner) {
            MinerOptions options = miner.loop.options();
            set_num_threads(options.threads());
            model = new LlamaModel(options.model(), options.seed(), Devices.resolve("cpu"));
            optimizer = new AdamW(model, options.training());
            int seq = options.model().seqLen();
            Tensor batch = randint(options.model().vocab(), new long[]{options.training().batchSize(), seq + 1});
            inputs = batch.narrow(1, 0, seq);
            targets = batch.narrow(1, 1, seq);
        }

        @TearDown(Level.Trial)
        public void close() {
            optimizer.close();
            model.close();
        }
    }

    @State(Scope.Benchmark)
    public static class MinerPipeline extends PipelineState {
        @Setup(Level.Trial)
        public void open(Miner miner, ScratchDir scratch) throws IOException {
            pipeline = Pipeline.open(scratch.file("miner.pth"),
                    MinerLoop.checkpointBytes(miner.loop.options().model()), true,
                    CheckpointListener.NONE);
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @Warmup(iterations = 2, time = 3)
    @Measurement(iterations = 3, time = 3)
    public float step(Miner miner) {
        return miner.loop.step();
    }

    /** The miner with {@code --checkpoint_interval 1}: a lazy snapshot after every step (target: ≤ 1.03× {@link #step}). */
    @State(Scope.Benchmark)
    public static class EveryStep {
        Pipeline pipeline;
        StateSource source;

        @Setup(Level.Trial)
        public void open(Miner miner, ScratchDir scratch) throws IOException {
            pipeline = Pipeline.open(scratch.file("every-step.pth"),
                    MinerLoop.checkpointBytes(miner.loop.options().model()), true, CheckpointListener.NONE);
            source = TensorTreeSource.of(miner.loop::state);
            miner.loop.beforeUpdate(pipeline::awaitStaging);
        }

        /** The steps run back to back, as in the miner: persists coalesce. */
        @TearDown(Level.Trial)
        public void close(Miner miner) throws IOException, InterruptedException {
            pipeline.awaitStaging();
            miner.loop.beforeUpdate(() -> {
            });
            pipeline.close();
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @Warmup(iterations = 2, time = 3)
    @Measurement(iterations = 3, time = 3)
    public float stepCheckpointingEveryStep(Miner miner, EveryStep every) {
        float loss = miner.loop.step();
        every.pipeline.afterStep(miner.loop.globalStep(), every.source);
        return loss;
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @Warmup(iterations = 2, time = 3)
    @Measurement(iterations = 3, time = 3)
    public void bareStep(Bare bare) {
        try (PointerScope scope = new PointerScope()) {   // any loop needs it: it frees each step's tensors
            bare.model.loss(bare.inputs, bare.targets).backward();
            bare.optimizer.step();
            bare.optimizer.zeroGrad();
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @Warmup(iterations = 3)
    @Measurement(iterations = 10)
    public void checkpointPause(Miner miner, MinerPipeline pipeline) {
        pipeline.pipeline.snapshot(miner.loop.state());
    }
}
