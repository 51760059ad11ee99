package neuron.bench;

import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.torch.TensorTrees;
import neuron.engine.nativeio.NativeIO;
import neuron.engine.nativeio.NativeMemory;
import org.bytedeco.pytorch.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The loop's pause per checkpoint (target: pause ≤ 1.3× the copy floor, ≥ 10× shorter than a
 * synchronous save): {@link #asyncSnapshot} is what the loop's thread waits for with the pipeline,
 * {@link #synchronousSave} what it waits for when it saves itself (torch.save + fsync in the loop), and
 * {@link #copyFloor} one copy of the same bytes into touched memory, the least any snapshot can cost, and
 * {@link #copyAndFiniteCheck} that copy plus the count of NaN and infinities the copier makes over what it copied
 * (a diverged state is never committed), so the check's share of a snapshot is the difference of the two.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
public class CheckpointPauseBench {
    /** The copy threads the checkpointer uses for host tensors. */
    private static final int COPY_THREADS = Integer.getInteger("neuron.copy.threads", 1);

    /** The pipeline as the miner runs it. */
    @State(Scope.Benchmark)
    public static class DefaultPipeline extends PipelineState {
        @Setup(Level.Trial)
        public void open(StateTree state, ScratchDir scratch) throws IOException {
            pipeline = Pipeline.open(scratch.file("checkpoint.pth"), state.bytes, true, CheckpointListener.NONE);
        }

        /** Checkpoints are 500 steps apart: the previous one is persisted and staging is ready again. */
        @Setup(Level.Invocation)
        public void idle() throws IOException, InterruptedException {
            pipeline.awaitIdle();
        }
    }

    @Benchmark
    public void asyncSnapshot(StateTree state, DefaultPipeline pipeline) {
        pipeline.pipeline.snapshot(state.tree);
    }

    @Benchmark
    public void synchronousSave(StateTree state, ScratchDir scratch) throws IOException {
        Path file = scratch.file("checkpoint.pth");
        TensorTrees.save(file, state.tree);
        Disk.fsync(file);
    }

    @Benchmark
    public void copyFloor(StateTree state, TouchedMemory memory) {
        long offset = 0;
        for (Tensor t : state.tensors()) {
            long n = t.nbytes();
            NativeMemory.copy(memory.address() + offset, t.data_ptr().address(), n, COPY_THREADS);
            offset += n;
        }
    }

    @Benchmark
    public long copyAndFiniteCheck(StateTree state, TouchedMemory memory) {
        long offset = 0;
        long nonFinite = 0;
        for (Tensor t : state.tensors()) {
            long n = t.nbytes();
            NativeMemory.copy(memory.address() + offset, t.data_ptr().address(), n, COPY_THREADS);
            nonFinite += NativeIO.nn_count_nonfinite_f32(memory.address() + offset, n / Float.BYTES);
            offset += n;
        }
        return nonFinite;
    }
}
