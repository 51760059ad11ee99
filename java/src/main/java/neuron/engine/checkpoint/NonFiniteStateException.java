package neuron.engine.checkpoint;

/**
 * A snapshot's copy found NaN or infinite values in the state: the run diverged. The snapshot is not committed,
 * so it never reaches a checkpoint file, and the loop is told to stop.
 */
public final class NonFiniteStateException extends RuntimeException {
    private final long step;

    NonFiniteStateException(long step, String what) {
        super(what);
        this.step = step;
    }

    /** The step (or block) of the snapshot. */
    public long step() {
        return step;
    }
}
