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
 * Restore (issue 8, target: ≥ 1.5× faster than torch.load): a checkpoint file, in the page cache as after a
 * recent save, read back into CPU tensors. {@link #readAndMaterialize} is what torch.load does (no CRC check);
 * {@link #loadVerified} is the engine's start-up path, which also checks every CRC-32. The tensors are freed
 * after each invocation.
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
    public int loadVerified(SavedCheckpoint checkpoint) throws IOException {
        try (PointerScope tensors = new PointerScope()) {
            return TensorTrees.load(checkpoint.file, "global_step").size();
        }
    }
}
