package neuron.engine.torch;

import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.checkpoint.StoredCheckpoint;
import neuron.engine.nativeio.LibTorch;
import neuron.engine.nativeio.NativeIO;
import neuron.engine.nativeio.NativeMemory;
import neuron.engine.pth.PthFormatException;
import neuron.engine.pth.PthReader;
import neuron.engine.pth.PyOrderedDict;
import neuron.engine.pth.StorageData;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.bytedeco.pytorch.global.torch.empty;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A restore in place: the tensors a restorer asks for are read, CRC-checked and checked finite in one sequential
 * pass, with {@code O_DIRECT} or, where the file system refuses it, buffered, or on their own when the restorer goes
 * back; a damaged file fails the load, and a state built on it before the damage was found is closed.
 */
class RestoreInPlaceTest {
    /** Spans several of the pass's reads, so checks cross read boundaries. */
    private static final int BIG = 6_000_000;

    @TempDir
    Path dir;

    @BeforeAll
    static void torch() {
        LibTorch.load();
    }

    @AfterEach
    void allowDirect() {
        NativeIO.nn_refuse_direct(0);
    }

    @ParameterizedTest(name = "O_DIRECT refused: {0}")
    @ValueSource(booleans = {false, true})
    void everyValueArrivesWithDirectReadsAndWithout(boolean refuseDirect) throws IOException {
        Path file = save(source(-1));
        NativeIO.nn_refuse_direct(refuseDirect ? 1 : 0);
        Map<String, Tensor> live = targets();
        CheckpointLoader.load(file, "global_step", stored -> {
            restoreInto(live, stored);
            return null;
        });
        Map<String, Object> expected = source(-1);
        Map<?, ?> model = (Map<?, ?>) expected.get("model");
        live.forEach((name, t) -> assertTrue(t.equal((Tensor) model.get(name)), name + " restored bit for bit"));
    }

    @Test
    void aRestorerOutOfFileOrderGetsEveryValue() throws IOException {
        Path file = save(source(-1));
        Map<String, Tensor> live = targets();
        Map<String, Tensor> backwards = new LinkedHashMap<>();
        List<String> names = new ArrayList<>(live.keySet());
        Collections.reverse(names);
        names.forEach(k -> backwards.put(k, live.get(k)));
        CheckpointLoader.load(file, "global_step", stored -> {
            restoreInto(backwards, stored);
            return null;
        });
        Map<?, ?> model = (Map<?, ?>) source(-1).get("model");
        live.forEach((name, t) -> assertTrue(t.equal((Tensor) model.get(name)), name + " restored bit for bit"));
    }

    @Test
    void aDamagedStorageFailsTheRestorerThatReadsIt() throws IOException {
        Path file = save(source(-1));
        damage(file, largestStorage(file).fileOffset() + 4L * BIG / 2);
        PthFormatException e = assertThrows(PthFormatException.class, () -> CheckpointLoader.load(file, "global_step",
                stored -> {
                    restoreInto(targets(), stored);
                    return null;
                }));
        assertTrue(e.getMessage().contains("CRC-32 mismatch"), e.getMessage());
    }

    @Test
    void aNaNIsNamed() throws IOException {
        Path file = save(source(BIG - 7));
        NativeIO.nn_refuse_direct(1);
        PthFormatException e = assertThrows(PthFormatException.class, () -> CheckpointLoader.load(file, "global_step",
                stored -> {
                    restoreInto(targets(), stored);
                    return null;
                }));
        assertTrue(e.getMessage().contains("model/big holds NaN"), e.getMessage());
    }

    @Test
    void aDamagedStorageNoRestorerReadIsRefusedAndTheStateBuiltClosed() throws IOException {
        Path file = save(source(-1));
        try (PthReader reader = PthReader.open(file)) {
            StorageData unread = reader.storages().stream().filter(d -> d.byteSize() == 4L * 10_000).findFirst()
                    .orElseThrow();
            damage(file, unread.fileOffset() + 8);
        }
        Closing state = new Closing();
        PthFormatException e = assertThrows(PthFormatException.class,
                () -> CheckpointLoader.load(file, "global_step", stored -> {
                    restoreInto(targets(), stored);
                    return state;
                }));
        assertTrue(e.getMessage().contains("CRC-32 mismatch"), e.getMessage());
        assertTrue(state.closed, "the state built on the damaged file is closed, not handed out");
    }

    /** A checkpoint's tree: a large tensor, small ones, integers, and a tensor no restorer here reads. */
    private static Map<String, Object> source(int nanAt) {
        PyOrderedDict model = new PyOrderedDict();
        model.put("big", floats(BIG, nanAt));
        model.put("norm", floats(3, -1));
        model.put("ids", longs(5));
        model.put("head", floats(1000, -1));
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("global_step", 3L);
        tree.put("model", model);
        tree.put("unread", floats(10_000, -1));
        return tree;
    }

    private static Map<String, Tensor> targets() {
        Map<String, Tensor> live = new LinkedHashMap<>();
        live.put("big", floats(BIG, -1).zero_());
        live.put("norm", floats(3, -1).zero_());
        live.put("ids", longs(5).zero_());
        live.put("head", floats(1000, -1).zero_());
        return live;
    }

    private static void restoreInto(Map<String, Tensor> live, StoredCheckpoint stored) {
        Map<?, ?> model = (Map<?, ?>) TensorTrees.stored(stored).get("model");
        live.forEach((name, t) -> ((StoredTensor) model.get(name)).copyInto("model/" + name, t));
    }

    private Path save(Map<String, Object> tree) throws IOException {
        Path file = dir.resolve("state.pth");
        TensorTrees.save(file, tree);
        return file;
    }

    private static StorageData largestStorage(Path file) throws IOException {
        try (PthReader reader = PthReader.open(file)) {
            return reader.storages().stream().max(Comparator.comparingLong(StorageData::byteSize)).orElseThrow();
        }
    }

    private static void damage(Path file, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ 0x40);
        }
    }

    /** Values i * 0.25 (exact in float32), NaN at {@code nanAt} (none if negative). */
    private static Tensor floats(int n, int nanAt) {
        Tensor t = empty(new long[]{n}, new TensorOptions(ScalarType.Float), new MemoryFormatOptional());
        ByteBuffer bytes = NativeMemory.view(t.data_ptr().address(), n * Float.BYTES);
        for (int i = 0; i < n; i++) {
            bytes.putFloat(i * Float.BYTES, i == nanAt ? Float.NaN : i * 0.25f);
        }
        return t;
    }

    private static Tensor longs(int n) {
        Tensor t = empty(new long[]{n}, new TensorOptions(ScalarType.Long), new MemoryFormatOptional());
        ByteBuffer bytes = NativeMemory.view(t.data_ptr().address(), n * Long.BYTES);
        for (int i = 0; i < n; i++) {
            bytes.putLong(i * Long.BYTES, 1L << 40 | i);
        }
        return t;
    }

    private static final class Closing implements AutoCloseable {
        boolean closed;

        @Override
        public void close() {
            closed = true;
        }
    }
}
