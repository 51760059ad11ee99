/**
 * The validator: it follows the chain, scores each window's updates on held-out data
 * ({@link neuron.engine.validator.WindowEvaluator}), applies the aggregate to the base model, sets weights, and
 * rebuilds itself from a checkpoint plus the block journal ({@link neuron.engine.validator.ValidatorReplay}).
 */
package neuron.engine.validator;
