package neuron.engine.nativeio;

import java.io.IOException;

/** A failed native call: the message names what and where, {@link #errno()} carries the code for decisions. */
public final class NativeIOException extends IOException {
    /** errno of a full disk. */
    public static final int ENOSPC = 28;
    /** errno of an argument the call refuses, e.g. O_DIRECT on a file system without it. */
    public static final int EINVAL = 22;

    private final int errno;

    NativeIOException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    /** The positive errno. */
    public int errno() {
        return errno;
    }
}
