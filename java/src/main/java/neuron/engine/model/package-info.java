/**
 * What both roles use: a LLaMA decoder with Hugging Face parameter names ({@link neuron.engine.model.LlamaModel}),
 * its configuration and state layout, Hugging Face weights, the devices, and token data whose batches are a pure
 * function of (seed, step, data) ({@link neuron.engine.model.TokenData}).
 */
package neuron.engine.model;
