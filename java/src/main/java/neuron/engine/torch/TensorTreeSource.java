package neuron.engine.torch;

import neuron.engine.checkpoint.StateSource;
import neuron.engine.nativeio.NativeMemory;
import neuron.engine.pth.PthStorage;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.bytedeco.pytorch.global.torch.from_blob;

/**
 * The state source of a tree of LibTorch tensors and Python-like values (Map, PyOrderedDict, List, PyTuple,
 * Long, Double, String, Boolean, null), as a loop's {@code state()} returns it: every tensor leaf becomes a
 * storage of its own, copied straight from the tensor's memory into staging (native memcpy on the CPU, a
 * device-to-host copy on a side stream from CUDA, see {@link CudaCopier}).
 *
 * <p>Scalars are captured at {@link #tree()}; tensors are read when the checkpointer copies them, so the
 * loop must not change them until {@link neuron.engine.checkpoint.Checkpointer#awaitStaging()} returns. The
 * source keeps its tensors reachable until {@link #release()}.
 */
public final class TensorTreeSource implements StateSource {
    /** Threads of the copy: one copies as fast as two where memory bandwidth, not cores, is the limit. */
    private static final int COPY_THREADS = Integer.getInteger("neuron.copy.threads", 1);

    private final Supplier<? extends Map<String, ?>> state;
    private List<PthStorage> storages = List.of();
    private Tensor[] tensors = new Tensor[0];
    private CudaCopier cuda;   // copier thread only; lives as long as the source

    private TensorTreeSource(Supplier<? extends Map<String, ?>> state) {
        this.state = state;
    }

    /**
     * The source of a loop's state: {@code state} is asked for the tree (live tensors, contiguous) at each
     * snapshot, so one source serves every trigger and a step with no trigger costs nothing.
     */
    public static TensorTreeSource of(Supplier<? extends Map<String, ?>> state) {
        return new TensorTreeSource(state);
    }

    /** Describes the state now: its scalars are captured, its tensors held until {@link #release()}. */
    @Override
    public Object tree() {
        Map<PthStorage, Tensor> sources = new LinkedHashMap<>();   // PthStorage has identity equality
        Object described = TensorTrees.describe(state.get(), sources);
        storages = List.copyOf(sources.keySet());
        tensors = sources.values().toArray(new Tensor[0]);
        return described;
    }

    @Override
    public List<PthStorage> storages() {
        return storages;
    }

    @Override
    public void copy(int storage, long dstAddress, long offset, long length) {
        if (storage >= tensors.length) {
            throw new IllegalStateException("storage " + storage + " copied outside a snapshot");
        }
        Tensor t = tensors[storage];
        if (t.is_cuda()) {
            copyFromDevice(t, dstAddress, offset, length);
        } else {
            NativeMemory.copy(dstAddress, t.data_ptr().address() + offset, length, COPY_THREADS);
        }
    }

    /**
     * A CUDA tensor's bytes: on the side stream of {@link CudaCopier} where the native library has CUDA, else a
     * plain {@code copy_} (LibTorch's stream for this thread, ordered after the step's kernels).
     */
    private void copyFromDevice(Tensor t, long dstAddress, long offset, long length) {
        if (cuda == null && CudaCopier.available()) {
            cuda = CudaCopier.create();
        }
        if (cuda != null) {
            cuda.copy(dstAddress, t.data_ptr().address() + offset, length);
            return;
        }
        Tensor bytes = t.view(ScalarType.Byte).reshape(-1);
        from_blob(NativeMemory.pointerAt(dstAddress, length), new long[]{length},
                new TensorOptions(ScalarType.Byte)).copy_(bytes.narrow(0, offset, length));
    }

    /** Lets go of the tensors: the loop owns them again. */
    @Override
    public void release() {
        storages = List.of();
        tensors = new Tensor[0];
    }
}
