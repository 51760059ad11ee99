package neuron.engine.dist;

/** The group cannot go on: a rank is gone, unreachable or never came; the message is the one line a user reads. */
public final class GroupFailure extends RuntimeException {
    public GroupFailure(String message, Throwable cause) {
        super(message, cause);
    }

    public GroupFailure(String message) {
        super(message);
    }
}
