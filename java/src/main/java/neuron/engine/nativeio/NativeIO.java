package neuron.engine.nativeio;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The Java face of {@code native/neuron_native.h}: raw addresses in, byte counts or {@code -errno} out.
 * Callers go through {@link NativeFile} and {@link NativeMemory}, which turn error codes into exceptions.
 */
@Platform(include = "neuron_native.h", link = "neuron_native")
public final class NativeIO {
    static {
        Loader.load();
    }

    private NativeIO() {
    }

    /** The ABI version the library was built with; the smoke check compares it with {@link #EXPECTED_ABI}. */
    public static native int nn_abi_version();

    public static final int EXPECTED_ABI = 5;

    public static native void nn_copy(@Cast("void*") long dst, @Cast("const void*") long src, @Cast("size_t") long n, int threads);

    public static native int nn_populate_write(@Cast("void*") long addr, @Cast("size_t") long n);

    public static native int nn_populate_write_supported();

    public static native void nn_touch_pages(@Cast("void*") long addr, @Cast("size_t") long n);

    public static native int nn_open_for_write(String path);

    public static native int nn_open_for_read(String path);

    public static native long nn_pread_fully(int fd, @Cast("void*") long dst, @Cast("size_t") long n, long offset);

    public static native int nn_drop_cached(int fd, long offset, long length);

    public static native int nn_read_ahead(int fd, long offset, long length);

    public static native long nn_count_nonfinite_f32(@Cast("const void*") long p, @Cast("size_t") long n);

    public static native int nn_open_for_direct_read(String path);

    public static native void nn_refuse_direct(int refuse);

    public static native long nn_pread_upto(int fd, @Cast("void*") long dst, @Cast("size_t") long n, long offset);

    public static native long nn_copy_count_nonfinite_f32(@Cast("void*") long dst, @Cast("const void*") long src,
                                                          @Cast("size_t") long n);

    public static native long nn_write_fully(int fd, @Cast("const void*") long buf, @Cast("size_t") long n);

    public static native int nn_fallocate(int fd, long offset, long length);

    public static native int nn_flush_range(int fd, long offset, long length);

    public static native int nn_drop_range(int fd, long offset, long length);

    public static native int nn_fsync(int fd);

    public static native int nn_close(int fd);

    public static native int nn_fsync_dir(String dir);

    /** The text of any code a native function returned (-errno or a CUDA code); thread-safe. */
    public static native @Cast("const char*") String nn_strerror(int code);
}
