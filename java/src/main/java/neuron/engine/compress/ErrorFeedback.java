package neuron.engine.compress;

import neuron.engine.pth.PyOrderedDict;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The sender's error feedback, one float32 buffer per parameter: for each window's pseudo-gradient {@code g},
 * {@code ef = β·ef + g}; {@code C(ef)} is sent; {@code ef −= decompress(C(ef))}, so what compression left out is
 * sent in a later window. No learning rate enters here: the update carries the pseudo-gradient's own scale and the
 * outer learning rate is applied once, by whoever applies the mean of the updates to the base.
 * <p>The buffers are the sender's state: {@link #state()} goes into its checkpoint and {@link #restore} takes it
 * back, so that a resumed sender continues bit for bit.
 */
public final class ErrorFeedback implements AutoCloseable {
    /** The reference system's decay of the buffer. */
    public static final double DEFAULT_BETA = 0.95;

    private final SparseCodec codec;
    private final double beta;
    private final Map<String, Tensor> buffers;

    private ErrorFeedback(SparseCodec codec, double beta, Map<String, Tensor> buffers) {
        if (!(beta >= 0 && beta <= 1)) {
            throw new IllegalArgumentException("the error feedback's decay must be in [0, 1], got " + beta);
        }
        this.codec = codec;
        this.beta = beta;
        this.buffers = buffers;
    }

    /** Zero buffers of the given shapes. */
    public static ErrorFeedback zeros(SparseCodec codec, double beta, Map<String, long[]> shapes) {
        Map<String, Tensor> buffers = new LinkedHashMap<>();
        shapes.forEach((name, shape) -> buffers.put(name, torch.zeros(shape, new TensorOptions(ScalarType.Float))));
        return new ErrorFeedback(codec, beta, buffers);
    }

    /**
     * Buffers taken from a checkpoint ({@link #state()}'s tree, tensors already read): exactly the given shapes,
     * float32; they are copied.
     */
    public static ErrorFeedback restore(SparseCodec codec, double beta, Map<String, long[]> shapes, Map<?, ?> state) {
        if (!state.keySet().equals(shapes.keySet())) {
            throw new IllegalArgumentException("the error feedback's parameters are not the model's");
        }
        Map<String, Tensor> buffers = new LinkedHashMap<>();
        shapes.forEach((name, shape) -> {
            if (!(state.get(name) instanceof Tensor t) || !Arrays.equals(t.sizes().vec().get(), shape)
                    || t.scalar_type().intern() != ScalarType.Float) {
                throw new IllegalArgumentException("the error feedback of " + name + " is not a float32 tensor of shape "
                        + Arrays.toString(shape));
            }
            buffers.put(name, t.clone());
        });
        return new ErrorFeedback(codec, beta, buffers);
    }

    /** The buffers by parameter name, for a checkpoint (live: snapshot before the next {@link #step}). */
    public Object state() {
        return new PyOrderedDict(Collections.unmodifiableMap(buffers));
    }

    /** Folds {@code pseudoGradient} (CPU tensors by parameter name, all of them) in and returns what to send. */
    public Map<String, CompressedTensor> step(Map<String, Tensor> pseudoGradient) {
        if (!pseudoGradient.keySet().equals(buffers.keySet())) {
            throw new IllegalArgumentException("the pseudo-gradient's parameters are not the error feedback's");
        }
        Map<String, CompressedTensor> sent = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            buffers.forEach((name, ef) -> {
                ef.mul_(new Scalar(beta)).add_(pseudoGradient.get(name));
                CompressedTensor c = codec.compress(ef);
                try (Tensor dense = codec.decompress(c)) {
                    ef.sub_(dense);
                }
                sent.put(name, c);
            });
        }
        return sent;
    }

    @Override
    public void close() {
        buffers.values().forEach(Tensor::close);
    }
}
