package neuron.engine.nativeio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A file written through the native library: plain {@code write(2)} from native or mapped memory, plus the
 * Linux hints that keep a multi-GB checkpoint from stalling the machine: space reserved up front
 * ({@code fallocate}), writeback started as it goes ({@code sync_file_range}), and written pages dropped from
 * the page cache once on disk ({@code posix_fadvise}). Errors become IOExceptions naming the file and errno.
 */
public final class NativeFile implements AutoCloseable {
    private final Path path;
    private int fd;
    private long position;

    private NativeFile(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    /** Opens {@code path} for reading ({@link #readFully}); its position stays 0. */
    public static NativeFile openForRead(Path path) throws IOException {
        int fd = NativeIO.nn_open_for_read(path.toString());
        if (fd < 0) {
            throw error("cannot open", path, fd);
        }
        return new NativeFile(path, fd);
    }

    /**
     * Opens {@code path} for reading with {@code O_DIRECT}, which fills no page cache (reads must then be
     * {@link #DIRECT_ALIGNMENT}-aligned in offset, length and address); empty where the file system refuses it.
     */
    public static Optional<NativeFile> openForDirectRead(Path path) throws IOException {
        int fd = NativeIO.nn_open_for_direct_read(path.toString());
        if (fd == -NativeIOException.EINVAL) {
            return Optional.empty();
        }
        if (fd < 0) {
            throw error("cannot open", path, fd);
        }
        return Optional.of(new NativeFile(path, fd));
    }

    /** The alignment {@code O_DIRECT} reads keep: the page size, a multiple of every block size in use. */
    public static final int DIRECT_ALIGNMENT = 4096;

    /** Reads up to {@code length} bytes at {@code offset} into {@code dst}; returns how many (fewer only at end of file). */
    public long readUpTo(long dst, long length, long offset) throws IOException {
        long rc = NativeIO.nn_pread_upto(fd, dst, length, offset);
        if (rc < 0) {
            throw error("cannot read " + length + " bytes at " + offset + " of", path, (int) rc);
        }
        return rc;
    }

    /** Reads exactly {@code length} bytes at {@code offset} of the file into native memory at {@code dst}. */
    public void readFully(long dst, long length, long offset) throws IOException {
        long rc = NativeIO.nn_pread_fully(fd, dst, length, offset);
        if (rc < 0) {
            throw error("cannot read " + length + " bytes at " + offset + " of", path, (int) rc);
        }
    }

    /** Drops the clean cached pages of {@code [offset, offset+length)} (what a read left in the page cache). */
    public void dropCached(long offset, long length) throws IOException {
        check(NativeIO.nn_drop_cached(fd, offset, length), "cannot drop cached pages of");
    }

    /** Asks the kernel to start reading {@code [offset, offset+length)} into the page cache, without waiting. */
    public void readAhead(long offset, long length) throws IOException {
        check(NativeIO.nn_read_ahead(fd, offset, length), "cannot read ahead in");
    }

    /** Creates or truncates {@code path} for writing. */
    public static NativeFile create(Path path) throws IOException {
        int fd = NativeIO.nn_open_for_write(path.toString());
        if (fd < 0) {
            throw error("cannot create", path, fd);
        }
        return new NativeFile(path, fd);
    }

    public Path path() {
        return path;
    }

    /** Bytes written so far. */
    public long position() {
        return position;
    }

    /** Writes the buffer's remaining bytes (direct buffers go straight from their memory) and consumes them. */
    public void write(ByteBuffer src) throws IOException {
        int n = src.remaining();
        if (n == 0) {
            return;
        }
        if (src.isDirect()) {
            writeAddress(NativeMemory.address(src), n);
        } else {
            ByteBuffer direct = ByteBuffer.allocateDirect(n);
            direct.put(src.duplicate()).flip();
            writeAddress(NativeMemory.address(direct), n);
        }
        src.position(src.limit());
    }

    private void writeAddress(long address, long n) throws IOException {
        long rc = NativeIO.nn_write_fully(fd, address, n);
        if (rc < 0) {
            throw error("cannot write", path, (int) rc);
        }
        position += n;
    }

    /** Reserves {@code length} bytes so a full disk shows up now, not half-way through the write. */
    public void reserve(long length) throws IOException {
        int rc = NativeIO.nn_fallocate(fd, 0, length);
        if (rc < 0) {
            throw error("cannot reserve " + length + " bytes for", path, rc);
        }
    }

    /** Starts writeback of {@code [offset, offset+length)} without waiting. */
    public void startWriteback(long offset, long length) throws IOException {
        check(NativeIO.nn_flush_range(fd, offset, length), "cannot start writeback of");
    }

    /** Waits for the range to reach the disk, then drops it from the page cache. */
    public void dropFromCache(long offset, long length) throws IOException {
        check(NativeIO.nn_drop_range(fd, offset, length), "cannot drop cached pages of");
    }

    public void fsync() throws IOException {
        check(NativeIO.nn_fsync(fd), "cannot fsync");
    }

    @Override
    public void close() throws IOException {
        if (fd >= 0) {
            int rc = NativeIO.nn_close(fd);
            fd = -1;
            check(rc, "cannot close");
        }
    }

    /** fsyncs a directory, so a rename inside it survives a power loss. */
    public static void fsyncDirectory(Path dir) throws IOException {
        int rc = NativeIO.nn_fsync_dir(dir.toString());
        if (rc < 0) {
            throw error("cannot fsync directory", dir, rc);
        }
    }

    private void check(int rc, String what) throws IOException {
        if (rc < 0) {
            throw error(what, path, rc);
        }
    }

    private static IOException error(String what, Path path, int negativeErrno) {
        return new NativeIOException(what + " " + path + ": " + NativeIO.nn_strerror(negativeErrno), -negativeErrno);
    }
}
