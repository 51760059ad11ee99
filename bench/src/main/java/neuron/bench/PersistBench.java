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
 * Persist throughput (target: the writer ≥ 0.85× a raw write): {@link #writerPersist} is the writer
 * thread's time from a committed snapshot to the fsynced, installed {@code .pth} (the snapshot is taken in the
 * invocation's setup, so the timer starts as the writer does), with and without its write-back hints;
 * {@link #rawWrite} writes the same number of bytes from touched memory to the same disk and fsyncs. MB/s =
 * size ÷ time.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
public class PersistBench {
    /** A pipeline with a committed snapshot waiting for the writer at the start of each invocation. */
    @State(Scope.Benchmark)
    public static class SnapshotTaken extends PipelineState {
        @Param({"true", "false"})
        public boolean writeHints;

        @Setup(Level.Trial)
        public void open(StateTree state, ScratchDir scratch) throws IOException {
            pipeline = Pipeline.open(scratch.file("checkpoint.pth"), state.bytes, writeHints, CheckpointListener.NONE);
        }

        @Setup(Level.Invocation)
        public void snapshot(StateTree state) {
            pipeline.snapshot(state.tree);
        }
    }

    @Benchmark
    public void writerPersist(SnapshotTaken snapshot) throws IOException, InterruptedException {
        snapshot.pipeline.awaitPersisted();
    }

    @Benchmark
    public void rawWrite(StateTree state, TouchedMemory memory, ScratchDir scratch) throws IOException {
        Disk.writeDurably(scratch.file("raw.bin"), memory.address(), state.bytes);
    }
}
