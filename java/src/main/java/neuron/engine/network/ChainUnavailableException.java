package neuron.engine.network;

/** A chain source could not answer now (not connected, no answer in time, block not produced yet): try again. */
public final class ChainUnavailableException extends Exception {
    public ChainUnavailableException(String message) {
        super(message);
    }

    public ChainUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
