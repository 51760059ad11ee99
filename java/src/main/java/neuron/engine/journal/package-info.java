/**
 * The block journal: a Chronicle queue of the blocks a validator saw, the retractions of a reorganisation and the
 * validator's own records ({@link neuron.engine.journal.Evaluation}, {@link neuron.engine.journal.WindowEvaluated}),
 * read back by a cursor for replays.
 */
package neuron.engine.journal;
