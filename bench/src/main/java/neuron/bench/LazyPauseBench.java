package neuron.bench;

import neuron.engine.checkpoint.CheckpointListener;
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
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * The loop's pause with the lazy snapshot (target: ≤ 0.1× the copy floor at 256 MiB and 1 GiB, given a step long
 * enough to hide the copy): a trigger hands the state over, the loop's next forward and backward take
 * {@code stepMillis} (a sleep: compute that leaves the copier a core and the memory bus, as a GPU step does),
 * and {@link #awaitStaging} is what the loop then waits right before its optimizer update. Compare with
 * {@code CheckpointPauseBench.copyFloor} of the same size.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
public class LazyPauseBench {
    @State(Scope.Benchmark)
    public static class LazyPipeline extends PipelineState {
        @Param({"0", "100", "300", "1000"})
        public int stepMillis;

        @Setup(Level.Trial)
        public void open(StateTree state, ScratchDir scratch) throws IOException {
            pipeline = Pipeline.open(scratch.file("checkpoint.pth"), state.bytes, true, CheckpointListener.NONE);
        }

        /** Checkpoints far apart (staging ready), a trigger, then the next step's forward and backward. */
        @Setup(Level.Invocation)
        public void triggerAndStep(StateTree state) throws IOException, InterruptedException {
            pipeline.awaitIdle();
            pipeline.handOver(state.tree);
            Thread.sleep(stepMillis);
        }
    }

    @Benchmark
    public void awaitStaging(LazyPipeline lazy) {
        lazy.pipeline.awaitStaging();
    }
}
