package neuron.engine.compress;

/** A sparse update file that is refused: unreadable, of other settings or shapes, or with values out of range. */
public final class UpdateFormatException extends Exception {
    public UpdateFormatException(String reason) {
        super(reason);
    }

    public UpdateFormatException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
