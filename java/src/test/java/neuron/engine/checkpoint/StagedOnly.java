package neuron.engine.checkpoint;

import neuron.engine.nativeio.NativeMemory;
import neuron.engine.pth.Pickled;
import neuron.engine.pth.PthStorage;
import neuron.engine.staging.StagingQueue;
import neuron.engine.torch.TensorTrees;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/** Stages a snapshot the way the pipeline does, with no writer: a process that died before persisting it. */
final class StagedOnly {
    private StagedOnly() {
    }

    static void stage(Path stagingDir, long step, Map<String, Object> tree) throws Exception {
        Map<PthStorage, Tensor> sources = new IdentityHashMap<>();
        Pickled pickled = Pickled.of(TensorTrees.describe(tree, sources));
        List<PthStorage> storages = pickled.storages();
        long[] sizes = storages.stream().mapToLong(PthStorage::nbytes).toArray();
        try (StagingQueue q = StagingQueue.open(stagingDir, 1 << 20)) {
            q.stage(step, pickled.bytes(), sizes, i -> {
                long src = sources.get(storages.get(i)).data_ptr().address();
                return (dst, off, len) -> NativeMemory.copy(dst, src + off, len, 1);
            });
        }
    }
}
