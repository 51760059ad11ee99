package neuron.engine.checkpoint;

import java.io.IOException;

/** The checkpoint's directory or staging directory cannot be used; the command exits with status 2. */
public final class UnusablePathException extends IOException {
    public UnusablePathException(String message) {
        super(message);
    }
}
