package neuron.engine.torch;

import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.checkpoint.StoredCheckpoint;
import neuron.engine.nativeio.NativeMemory;
import neuron.engine.pth.DType;
import neuron.engine.pth.PthReader;
import neuron.engine.pth.PthStorage;
import neuron.engine.pth.PthTensor;
import neuron.engine.pth.PthWriter;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.pth.PyTuple;
import neuron.engine.pth.StorageData;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.empty;

/**
 * Converts the loops' state trees between LibTorch and the file format: live {@link Tensor} leaves become
 * {@link PthTensor} descriptors (each over a storage of its own) for a snapshot, and a file's tensors become CPU
 * tensors for a restore. Everything else in a tree (dicts, lists, tuples, scalars) is copied as it is.
 */
public final class TensorTrees {
    private TensorTrees() {
    }

    /**
     * Returns {@code tree} with each Tensor replaced by a descriptor over a storage of its own (one tensor object
     * met twice, such as a tied head, is one storage under both names, as torch.save keeps it); {@code sources}
     * receives the tensor behind each descriptor's storage (in the order the tree refers to them, if it keeps
     * order). Tensors must be contiguous (model and optimizer state always is).
     */
    public static Object describe(Object tree, Map<PthStorage, Tensor> sources) {
        return describe(tree, sources, new IdentityHashMap<>());
    }

    private static Object describe(Object tree, Map<PthStorage, Tensor> sources, Map<Tensor, PthTensor> seen) {
        if (tree instanceof Tensor t) {
            PthTensor known = seen.get(t);
            if (known != null) {
                return known;
            }
            if (!t.is_contiguous()) {
                throw new IllegalArgumentException("a state tensor is not contiguous: " + t);
            }
            PthStorage storage = new PthStorage(dtypeOf(t), t.numel());
            sources.put(storage, t);
            PthTensor described = PthTensor.contiguous(storage, t.sizes().vec().get());
            seen.put(t, described);
            return described;
        }
        return mapLeaves(tree, node -> describe(node, sources, seen));
    }

    /**
     * Saves {@code tree} (tensor leaves are CPU LibTorch tensors) as a torch.save file, synchronously, on the
     * caller's thread: for small files such as submissions, and as the baseline the pipeline is measured against.
     */
    public static void save(Path file, Map<?, ?> tree) throws IOException {
        Map<PthStorage, Tensor> sources = new IdentityHashMap<>();
        Object described = describe(tree, sources);
        PthWriter.write(file, described, storage -> {
            Tensor t = sources.get(storage);
            if (!t.is_cpu()) {
                throw new IllegalArgumentException("save() takes CPU tensors; copy device tensors first");
            }
            return NativeMemory.view(t.data_ptr().address(), Math.toIntExact(storage.nbytes()));
        });
    }

    /** The bytes of all tensor leaves of a tree: the size of its snapshot. */
    public static long bytes(Object tree) {
        Map<PthStorage, Tensor> sources = new IdentityHashMap<>();
        describe(tree, sources);
        long total = 0;
        for (PthStorage s : sources.keySet()) {
            total += s.nbytes();
        }
        return total;
    }

    /** Returns {@code tree} with each file tensor materialised as a CPU tensor (views share their storage). */
    public static Object materialize(Object tree, PthReader reader) throws IOException {
        return materialize(tree, storage -> fromMapping(reader.data(storage)));
    }

    /** The checkpoint's tree with each tensor read into a fresh CPU tensor: for tools and tests. */
    public static Map<?, ?> materialize(StoredCheckpoint checkpoint) throws IOException {
        return (Map<?, ?>) materialize(checkpoint.root(), storage -> fromFile(storage, checkpoint));
    }

    /**
     * The checkpoint's tree for a restore in place: each tensor leaf is a {@link StoredTensor}, read straight
     * into the live tensor it is copied into; nothing is allocated for the tensors themselves.
     */
    public static Map<?, ?> stored(StoredCheckpoint checkpoint) {
        return (Map<?, ?>) storedNode(checkpoint.root(), checkpoint);
    }

    /** Loads one checkpoint file (every CRC checked) as a tree of CPU tensors: for tools and tests. */
    public static Map<?, ?> load(Path file, String progressKey) throws IOException {
        return CheckpointLoader.load(file, progressKey, TensorTrees::materialize);
    }

    /** One tensor of a checkpoint as a fresh CPU tensor. */
    static Tensor read(PthTensor t, StoredCheckpoint checkpoint) throws IOException {
        try (Tensor whole = fromFile(t.storage(), checkpoint)) {
            return view(whole, t);   // the view holds the storage; the handle of the whole goes now, not at GC
        }
    }

    private static Object storedNode(Object node, StoredCheckpoint checkpoint) {
        if (node instanceof PthTensor t) {
            return new StoredTensor(t, checkpoint);
        }
        return mapLeaves(node, child -> storedNode(child, checkpoint));
    }

    private interface StorageLoader {
        Tensor load(PthStorage storage) throws IOException;
    }

    private static Object materialize(Object tree, StorageLoader loader) throws IOException {
        try {
            return materializeNode(tree, loader, new IdentityHashMap<>());
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static Object materializeNode(Object node, StorageLoader loader, Map<PthStorage, Tensor> loaded) {
        if (node instanceof PthTensor t) {
            Tensor storage = loaded.computeIfAbsent(t.storage(), s -> {
                try {
                    return loader.load(s);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            return view(storage, t);
        }
        return mapLeaves(node, child -> materializeNode(child, loader, loaded));
    }

    private static Tensor view(Tensor storage, PthTensor t) {
        return storage.as_strided(t.shape(), t.stride(), new LongOptional(t.storageOffset()));
    }

    private static Tensor allocate(DType dtype, long[] shape) {
        return empty(shape, new TensorOptions(scalarTypeOf(dtype)), new MemoryFormatOptional());
    }

    private static Tensor fromFile(PthStorage s, StoredCheckpoint checkpoint) throws IOException {
        Tensor t = allocate(s.dtype(), new long[]{s.numel()});
        try {
            checkpoint.readInto(s, t.data_ptr().address());
            return t;
        } catch (IOException | RuntimeException e) {
            t.close();
            throw e;
        }
    }

    private static Tensor fromMapping(StorageData data) throws IOException {
        PthStorage s = data.storage();
        return tensorOf(s.dtype(), new long[]{s.numel()}, data.chunks());
    }

    /** A dense CPU tensor of {@code shape} holding the bytes of {@code chunks} (direct or mapped views), in order. */
    public static Tensor tensorOf(DType dtype, long[] shape, List<ByteBuffer> chunks) {
        Tensor t = allocate(dtype, shape);
        long base = t.data_ptr().address();
        long offset = 0;
        for (ByteBuffer chunk : chunks) {
            int n = chunk.remaining();
            NativeMemory.copy(base + offset, NativeMemory.address(chunk), n, 1);
            offset += n;
        }
        return t;
    }

    private interface Leaf {
        Object apply(Object node);
    }

    /** Rebuilds a container with {@code leaf} applied to each element; anything else is returned as it is. */
    private static Object mapLeaves(Object tree, Leaf leaf) {
        if (tree instanceof PyOrderedDict d) {
            PyOrderedDict out = new PyOrderedDict();
            d.forEach((k, v) -> out.put(k, leaf.apply(v)));
            return out;
        }
        if (tree instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(k, leaf.apply(v)));
            return out;
        }
        if (tree instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            l.forEach(v -> out.add(leaf.apply(v)));
            return out;
        }
        if (tree instanceof PyTuple t) {
            List<Object> out = new ArrayList<>(t.items().size());
            t.items().forEach(v -> out.add(leaf.apply(v)));
            return new PyTuple(out);
        }
        return tree;
    }

    static DType dtypeOf(Tensor t) {
        ScalarType st = t.scalar_type().intern();
        return switch (st) {
            case Float -> DType.FLOAT32;
            case Double -> DType.FLOAT64;
            case Half -> DType.FLOAT16;
            case BFloat16 -> DType.BFLOAT16;
            case Long -> DType.INT64;
            case Int -> DType.INT32;
            case Short -> DType.INT16;
            case Char -> DType.INT8;
            case Byte -> DType.UINT8;
            case Bool -> DType.BOOL;
            default -> throw new IllegalArgumentException("a state tensor has dtype " + st
                    + ", which checkpoints do not store");
        };
    }

    static ScalarType scalarTypeOf(DType d) {
        return switch (d) {
            case FLOAT32 -> ScalarType.Float;
            case FLOAT64 -> ScalarType.Double;
            case FLOAT16 -> ScalarType.Half;
            case BFLOAT16 -> ScalarType.BFloat16;
            case INT64 -> ScalarType.Long;
            case INT32 -> ScalarType.Int;
            case INT16 -> ScalarType.Short;
            case INT8 -> ScalarType.Char;
            case UINT8 -> ScalarType.Byte;
            case BOOL -> ScalarType.Bool;
            case COMPLEX64 -> ScalarType.ComplexFloat;
            case COMPLEX128 -> ScalarType.ComplexDouble;
            case COMPLEX32 -> ScalarType.ComplexHalf;
            case UINT16 -> ScalarType.UInt16;
            case UINT32 -> ScalarType.UInt32;
            case UINT64 -> ScalarType.UInt64;
            case FLOAT8_E4M3FN -> ScalarType.Float8_e4m3fn;
            case FLOAT8_E5M2 -> ScalarType.Float8_e5m2;
            case FLOAT8_E4M3FNUZ -> ScalarType.Float8_e4m3fnuz;
            case FLOAT8_E5M2FNUZ -> ScalarType.Float8_e5m2fnuz;
            case FLOAT8_E8M0FNU -> ScalarType.Float8_e8m0fnu;
            case FLOAT4_E2M1FN_X2 -> ScalarType.Float4_e2m1fn_x2;
            case BITS8 -> ScalarType.Bits8;
            case BITS16 -> ScalarType.Bits16;
            case BITS1X8 -> ScalarType.Bits1x8;
            case BITS2X4 -> ScalarType.Bits2x4;
            case BITS4X2 -> ScalarType.Bits4x2;
        };
    }
}
