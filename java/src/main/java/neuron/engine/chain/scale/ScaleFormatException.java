package neuron.engine.chain.scale;

/** Bytes that are not the SCALE value they should be. */
public final class ScaleFormatException extends IllegalArgumentException {
    public ScaleFormatException(String message) {
        super(message);
    }
}
