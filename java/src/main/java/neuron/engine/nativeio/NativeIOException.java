package neuron.engine.nativeio;

import java.io.IOException;

/** A failed native call: the message names what and where, {@link #errno()} carries the code for decisions. */
public final class NativeIOException extends IOException {
    /** errno of a full disk. */
    public static final int ENOSPC = 28;

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
