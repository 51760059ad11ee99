/**
 * The window protocol's vocabulary, shared by miners, validators and chains: commitments and weights, the calls a
 * chain answers ({@link neuron.engine.network.WindowChain}), submissions and their store, aggregates, base-model
 * hashes and the data assigned to a uid for a window. A chain implements it; it knows no chain.
 */
package neuron.engine.network;
