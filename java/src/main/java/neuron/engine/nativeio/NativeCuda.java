package neuron.engine.nativeio;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The Java face of {@code native/neuron_cuda.h}: CUDA staging of a snapshot into mapped memory on a side stream.
 * Addresses, streams ({@code cudaStream_t}, 0 for the legacy default stream) and stagers are raw {@code long}s;
 * every call returns 0 (or 1 where said) or a negative code whose text is {@link NativeMemory#describe(int)}.
 * In a build without CUDA (the default; {@code mvn -Pgpu} builds it) each returns {@link #NOT_BUILT}.
 */
@Platform(include = "neuron_cuda.h", link = "neuron_native")
public final class NativeCuda {
    static {
        Loader.load();
    }

    private NativeCuda() {
    }

    /** -ENOSYS: this build has no CUDA staging. */
    public static final int NOT_BUILT = -38;

    /** A CUDA error e comes back as {@code -(CUDA_ERROR_BASE + e)}. */
    public static final int CUDA_ERROR_BASE = 10000;

    /** 1: a device is visible; 0 or a negative code (why not) otherwise. */
    public static native int nn_cuda_available();

    /** Page-locks mapped staging memory once, ahead of the copies (never in the pause); a failure leaves it pageable. */
    public static native int nn_cuda_host_register(@Cast("void*") long address, @Cast("size_t") long length);

    public static native int nn_cuda_host_unregister(@Cast("void*") long address);

    /** Creates a stager (side stream + events) on the current device; its handle goes into {@code out[0]}. */
    public static native int nn_cuda_stager_create(@Cast("void**") long[] out);

    /** The side stream waits for the work queued so far on {@code producerStream}. */
    public static native int nn_cuda_stager_begin(@Cast("void*") long stager, @Cast("void*") long producerStream);

    /** Queues a copy of {@code length} bytes from device (or host) memory into host memory. */
    public static native int nn_cuda_stager_copy(@Cast("void*") long stager, @Cast("void*") long dst,
                                                 @Cast("const void*") long src, @Cast("size_t") long length);

    /** Records the done event after the copies queued so far. */
    public static native int nn_cuda_stager_end(@Cast("void*") long stager);

    /** Blocks the calling thread, without spinning, until the copies before {@code end} are in host memory. */
    public static native int nn_cuda_stager_wait(@Cast("void*") long stager);

    /** Later work on {@code consumerStream} waits for the copies (no host wait): the next step may be queued at once. */
    public static native int nn_cuda_stager_order(@Cast("void*") long stager, @Cast("void*") long consumerStream);

    /** Waits for the side stream, then frees it; 0 is ignored. */
    public static native void nn_cuda_stager_destroy(@Cast("void*") long stager);
}
