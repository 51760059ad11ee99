package neuron.engine.nativeio;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Raw native memory: copies between addresses and ByteBuffer views without passing through the heap. */
public final class NativeMemory {
    private static final Logger LOG = LoggerFactory.getLogger(NativeMemory.class);
    /** Whether the kernel can populate pages ahead (MADV_POPULATE_WRITE); probed once, said once. */
    private static final boolean POPULATE = probePopulate();

    private NativeMemory() {
    }

    private static boolean probePopulate() {
        boolean supported = NativeIO.nn_populate_write_supported() == 1
                && !"touch".equals(System.getProperty("neuron.populate"));
        if (!supported) {
            LOG.warn("this kernel cannot populate pages ahead (MADV_POPULATE_WRITE, Linux 5.14): staging pages "
                    + "are touched one by one instead, and a full staging file system stops the process with "
                    + "SIGBUS rather than an error");
        }
        return supported;
    }

    /** A direct, little-endian ByteBuffer over {@code [address, address+length)}; valid while that memory is. */
    public static ByteBuffer view(long address, int length) {
        return new AddressPointer(address, length).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A JavaCPP pointer at a raw address, e.g. for {@code from_blob}; valid while that memory is. */
    public static Pointer pointerAt(long address, long length) {
        return new AddressPointer(address, length);
    }

    /** The native address of a direct buffer's position. */
    public static long address(ByteBuffer direct) {
        if (!direct.isDirect()) {
            throw new IllegalArgumentException("not a direct buffer");
        }
        return new Pointer(direct).address() + direct.position();
    }

    /** Copies with up to {@code threads} threads (native memcpy). */
    public static void copy(long dst, long src, long length, int threads) {
        NativeIO.nn_copy(dst, src, length, threads);
    }

    /**
     * Populates a shared mapping's pages for writing, contents unchanged; returns 0 or -errno. Where the kernel
     * cannot (before Linux 5.14) each page is touched instead, which always returns 0.
     */
    public static int populateForWrite(long address, long length) {
        if (POPULATE) {
            return NativeIO.nn_populate_write(address, length);
        }
        NativeIO.nn_touch_pages(address, length);
        return 0;
    }

    /** The text of a code a native call returned ({@code -errno} or a CUDA error). */
    public static String describe(int negativeErrno) {
        return NativeIO.nn_strerror(negativeErrno);
    }

    /** A JavaCPP pointer at a raw address (the protected field is set in the subclass). */
    private static final class AddressPointer extends BytePointer {
        AddressPointer(long address, long length) {
            super((Pointer) null);
            this.address = address;
            this.capacity = length;
            this.limit = length;
        }
    }
}
