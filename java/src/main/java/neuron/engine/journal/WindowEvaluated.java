package neuron.engine.journal;

/**
 * Journaled after the last {@link Evaluation} of a window: the window's list is complete. A replay that finds
 * evaluations of a window without this marker knows the validator stopped in the middle of that window.
 */
public record WindowEvaluated(long window, int evaluations) {
}
