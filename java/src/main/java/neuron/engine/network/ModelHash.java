package neuron.engine.network;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;

/**
 * The hash that names a base model: SHA-256 over each parameter in state-dict order (its name, its shape, its
 * float32 bytes). Two nodes hold the same base exactly when their hashes agree, so a miner can check the base it
 * built and a validator can tell whether an update was made against its base.
 */
public final class ModelHash {
    /** Tensor bytes are hashed in slices of this size (a direct buffer holds at most 2 GiB). */
    private static final long SLICE = 1L << 30;

    private ModelHash() {
    }

    /** The hash of {@code parameters} (float32 tensors on any device). */
    public static Hash32 of(Map<String, Tensor> parameters) {
        return of(parameters, null);
    }

    /**
     * The hash of {@code parameters + plus} (same names and shapes), computed tensor by tensor with the same add a
     * node applying {@code plus} does, so it equals the hash of the sum without holding a second model.
     */
    public static Hash32 of(Map<String, Tensor> parameters, Map<String, Tensor> plus) {
        MessageDigest sha = sha256();
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : parameters.entrySet()) {
                Tensor t = e.getValue();
                if (t.scalar_type().intern() != ScalarType.Float) {
                    throw new IllegalArgumentException(e.getKey() + " is not float32");
                }
                Tensor value = plus == null ? t : t.add(plus.get(e.getKey()).to(t.device(), ScalarType.Float));
                Tensor cpu = value.cpu().contiguous();
                sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                long[] shape = t.sizes().vec().get();
                ByteBuffer header = ByteBuffer.allocate(Integer.BYTES + Long.BYTES * shape.length).order(ByteOrder.LITTLE_ENDIAN);
                header.putInt(shape.length);
                for (long d : shape) {
                    header.putLong(d);
                }
                sha.update(header.flip());
                long bytes = cpu.numel() * Float.BYTES;
                BytePointer data = new BytePointer(cpu.data_ptr()).capacity(bytes);
                for (long at = 0; at < bytes; at += SLICE) {
                    sha.update(data.position(at).limit(Math.min(bytes, at + SLICE)).asByteBuffer());
                }
            }
        }
        return Hash32.of(sha.digest());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
