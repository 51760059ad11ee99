package neuron.bench;

import neuron.engine.torch.TensorTrees;
import org.bytedeco.javacpp.PointerScope;
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
 * Restore (target: faster than torch.load): {@link #readAndMaterialize} reads a file in the page cache into fresh
 * CPU tensors as torch.load does (no CRC check, through the mapping); {@link #loadVerified} reads it into fresh
 * tensors through the engine's loader (every CRC-32, pread); {@link #intoLiveState} is a resume: the file read
 * straight into the state's existing tensors. The loader's paths drop the file's pages as they read, so after
 * the first invocation they read from disk, as a resume does. The tensors are freed after each invocation.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
public class RestoreBench {
    @State(Scope.Benchmark)
    public static class SavedCheckpoint {
        Path file;

        @Setup(Level.Trial)
        public void save(StateTree state, ScratchDir scratch) throws IOException {
            file = scratch.file("checkpoint.pth");
            TensorTrees.save(file, state.tree);
            Disk.fsync(file);
        }
    }

    @Benchmark
    public int readAndMaterialize(SavedCheckpoint checkpoint) throws IOException {
        return Restore.restoreAndFree(checkpoint.file);
    }

    @Benchmark
    public void intoLiveState(SavedCheckpoint checkpoint, StateTree state) throws IOException {
        Restore.intoLive(checkpoint.file, state.tree);
    }

    @Benchmark
    public int loadVerified(SavedCheckpoint checkpoint) throws IOException {
        try (PointerScope tensors = new PointerScope()) {
            return TensorTrees.load(checkpoint.file, "global_step").size();
        }
    }
}
