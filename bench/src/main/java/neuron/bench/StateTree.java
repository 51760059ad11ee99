package neuron.bench;

import neuron.engine.torch.TensorTrees;
import neuron.engine.nativeio.LibTorch;
import org.bytedeco.pytorch.Tensor;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.Map;

/** The state a benchmark checkpoints: {@link ModelShapedState} of {@code sizeMiB}. */
@State(Scope.Benchmark)
public class StateTree {
    @Param({"64", "256", "1024"})
    public int sizeMiB;

    Map<String, Object> tree;
    long bytes;

    @Setup(Level.Trial)
    public void create() {
        LibTorch.load();
        tree = ModelShapedState.create(sizeMiB);
        bytes = TensorTrees.bytes(tree);
    }

    Iterable<Tensor> tensors() {
        return ModelShapedState.tensors(tree);
    }
}
