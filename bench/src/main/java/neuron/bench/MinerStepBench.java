package neuron.bench;

import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.checkpoint.TensorTrees;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.train.MinerArguments;
import neuron.engine.train.MinerLoop;
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

/**
 * A miner step and the loop's pause to checkpoint the miner's whole state (model, AdamW, schedule), for the
 * {@code tiny} and {@code small} presets (issue 8, target: checkpoint overhead < 1% of the step time at interval
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

    @State(Scope.Benchmark)
    public static class MinerPipeline extends PipelineState {
        @Setup(Level.Trial)
        public void open(Miner miner, ScratchDir scratch) throws IOException {
            pipeline = Pipeline.open(scratch.file("miner.pth"), TensorTrees.bytes(miner.loop.state()), true,
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

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @Warmup(iterations = 3)
    @Measurement(iterations = 10)
    public void checkpointPause(Miner miner, MinerPipeline pipeline) {
        pipeline.pipeline.snapshot(miner.loop.state());
    }
}
