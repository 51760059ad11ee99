package neuron.engine.checkpoint;

/**
 * The user's input is wrong (a flag's value, a path, a model's name, a uid): the command exits with status 2 and
 * this one line. Any other {@link IllegalArgumentException} is the engine's own error and exits with status 1.
 */
public class UsageException extends IllegalArgumentException {
    public UsageException(String message) {
        super(message);
    }

    public UsageException(String message, Throwable cause) {
        super(message, cause);
    }
}
