package neuron.engine.eval;

import neuron.engine.chain.Hash32;
import neuron.engine.torch.TensorTrees;
import neuron.engine.pth.PthReader;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** A miner's submission for one window, read and checked: every problem becomes a {@link Rejected} reason. */
public record Submission(int uid, long window, long block, Map<String, Tensor> delta, Hash32 contentHash) {
    /**
     * The largest change of one weight a window's update may make. Training moves a weight by far less; a larger
     * one saturates the model (normalisation layers overflow into uniform predictions, which can even score a
     * little better than a young model) and would poison the validator's model if accepted.
     */
    public static final double MAX_ABS_DELTA = 100.0;

    /** Why a submission is not used: logged, and scored as zero for its window. */
    public static final class Rejected extends Exception {
        public Rejected(String reason) {
            super(reason);
        }
    }

    /**
     * Reads {@code file} (whose content hash is {@code hash}) as the submission of {@code uid} for
     * {@code window}: a valid {@code .pth} whose uid and window match, whose block lies in the window, and whose
     * delta has exactly the model's parameter names, shapes, float32 dtype and only finite values no larger than
     * {@link #MAX_ABS_DELTA}.
     */
    public static Submission read(Path file, Hash32 hash, int uid, long window, long blocksPerWindow,
                                  Map<String, long[]> shapes) throws Rejected {
        Map<?, ?> root;
        try (PthReader reader = PthReader.open(file)) {
            if (!(reader.root() instanceof Map<?, ?> tree)) {
                throw new Rejected("not a dict");
            }
            root = (Map<?, ?>) TensorTrees.materialize(tree, reader);
        } catch (IOException | RuntimeException e) {
            throw new Rejected("not a valid .pth: " + e.getMessage());
        }
        long fileUid = integer(root, "uid");
        long fileWindow = integer(root, "window");
        long block = integer(root, "block");
        if (fileUid != uid || fileWindow != window) {
            throw new Rejected("it says uid " + fileUid + " window " + fileWindow);
        }
        if (block < window * blocksPerWindow || block >= (window + 1) * blocksPerWindow) {
            throw new Rejected("its block " + block + " is outside window " + window);
        }
        if (!(root.get("delta") instanceof Map<?, ?> delta)) {
            throw new Rejected("no 'delta' dict");
        }
        if (!delta.keySet().equals(shapes.keySet())) {
            throw new Rejected("its delta's names do not match the model's parameters");
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            if (!(delta.get(e.getKey()) instanceof Tensor t)) {
                throw new Rejected(e.getKey() + " is not a tensor");
            }
            if (t.scalar_type().intern() != ScalarType.Float) {
                throw new Rejected(e.getKey() + " is " + t.scalar_type().intern() + ", not float32");
            }
            if (!Arrays.equals(t.sizes().vec().get(), e.getValue())) {
                throw new Rejected(e.getKey() + " has shape " + Arrays.toString(t.sizes().vec().get()) + ", expected "
                        + Arrays.toString(e.getValue()));
            }
            if (!t.isfinite().all().item_bool()) {
                throw new Rejected(e.getKey() + " holds NaN or Inf");
            }
            double largest = t.numel() == 0 ? 0 : t.abs().max().item_double();
            if (largest > MAX_ABS_DELTA) {
                throw new Rejected(e.getKey() + " changes a weight by " + largest + " (more than " + MAX_ABS_DELTA + ")");
            }
            tensors.put(e.getKey(), t);
        }
        return new Submission(uid, window, block, tensors, hash);
    }

    private static long integer(Map<?, ?> root, String key) throws Rejected {
        if (!(root.get(key) instanceof Long n)) {
            throw new Rejected("no integer '" + key + "'");
        }
        return n;
    }

    /** SHA-256 of the file's bytes, streamed: what the journal records, so a replay uses the same file. */
    public static Hash32 contentHash(Path file) throws Rejected {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            while (ch.read(buf) >= 0) {
                buf.flip();
                sha.update(buf);
                buf.clear();
            }
            return Hash32.of(sha.digest());
        } catch (IOException e) {
            throw new Rejected("cannot read it: " + e.getMessage());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
