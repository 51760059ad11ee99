package neuron.engine.nativeio;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Raw native memory: copies between addresses and ByteBuffer views without passing through the heap. */
public final class NativeMemory {
    private NativeMemory() {
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

    /** Populates a shared mapping's pages for writing, contents unchanged; returns 0 or -errno. */
    public static int populateForWrite(long address, long length) {
        return NativeIO.nn_populate_write(address, length);
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
