/**
 * The dev chain: an embedded chain ({@link neuron.engine.chain.local.LocalChain}) with a Substrate runtime, served
 * over JSON-RPC WebSocket by {@link neuron.engine.chain.local.ChainServer} ({@code bin/neuron chain}), and
 * {@link neuron.engine.chain.local.BlockFeeds}, which opens the feed a {@code --chain} flag names: this chain or a
 * remote one.
 */
package neuron.engine.chain.local;
