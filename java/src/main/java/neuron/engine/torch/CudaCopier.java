package neuron.engine.torch;

import neuron.engine.nativeio.NativeCuda;
import neuron.engine.nativeio.NativeMemory;
import org.bytedeco.javacpp.BytePointer;

/**
 * The device-to-host copy of a lazy snapshot: on a side CUDA stream that first waits for the work already queued
 * on LibTorch's default stream (the step that produced the state), through two pinned bounce buffers into the
 * mapped staging memory, so the next step's kernels run on while the copy goes on.
 *
 * <p>Why bounce buffers and not {@code cudaHostRegister} of the staging memory itself: the staging mappings are
 * Chronicle's (a cycle file per snapshot, mapped and unmapped at its will, deleted once persisted), and a
 * registered range must be unregistered before it is unmapped; two 8 MiB pinned buffers are registered once per
 * process, keep the copy at pinned speed (pageable D2H runs about 10× slower), and cost one host memcpy per
 * piece, overlapped with the next piece's D2H.
 *
 * <p>Copier thread only. Compiled in every build; it runs only where LibTorch and the native library were built
 * with CUDA and a device is visible ({@link #available()}).
 */
final class CudaCopier implements AutoCloseable {
    private static final long PIECE = 8L << 20;

    private final long stager;
    private final BytePointer[] bounce = new BytePointer[2];

    private CudaCopier(long stager) {
        this.stager = stager;
        for (int i = 0; i < bounce.length; i++) {
            bounce[i] = new BytePointer(PIECE);
            check(NativeCuda.nn_cuda_host_register(bounce[i].address(), PIECE), "pin a bounce buffer");
        }
    }

    /** Whether the native library was built with CUDA and sees a device. */
    static boolean available() {
        return NativeCuda.nn_cuda_available() == 1;
    }

    static CudaCopier create() {
        long[] out = new long[1];
        check(NativeCuda.nn_cuda_stager_create(out), "create the CUDA copy stream");
        return new CudaCopier(out[0]);
    }

    /** Copies {@code length} bytes of device memory at {@code src} to host memory at {@code dst}; returns once they are there. */
    void copy(long dst, long src, long length) {
        check(NativeCuda.nn_cuda_stager_begin(stager, 0), "order the copy after the step");
        long pending = -1;   // the piece whose D2H is in flight: its offset
        int buffer = 0;
        for (long at = 0; at < length || pending >= 0; at += PIECE) {
            long next = at < length ? at : -1;
            if (next >= 0) {
                check(NativeCuda.nn_cuda_stager_copy(stager, bounce[buffer].address(), src + next,
                        Math.min(PIECE, length - next)), "copy device to host");
            }
            if (pending >= 0) {
                // the previous piece's D2H was waited for below; its bytes go on while this one copies
                NativeMemory.copy(dst + pending, bounce[1 - buffer].address(), Math.min(PIECE, length - pending), 1);
            }
            check(NativeCuda.nn_cuda_stager_end(stager), "record the copy's event");
            check(NativeCuda.nn_cuda_stager_wait(stager), "wait for the copy");
            pending = next;
            buffer = 1 - buffer;
        }
    }

    @Override
    public void close() {
        for (BytePointer b : bounce) {
            if (b != null) {
                NativeCuda.nn_cuda_host_unregister(b.address());
                b.close();
            }
        }
        NativeCuda.nn_cuda_stager_destroy(stager);
    }

    private static void check(int rc, String what) {
        if (rc != 0) {
            throw new IllegalStateException("cannot " + what + ": " + NativeMemory.describe(rc));
        }
    }
}
