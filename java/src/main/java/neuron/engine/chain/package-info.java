/**
 * The client's view of a chain: blocks and their headers, a WebSocket client of a Substrate node
 * ({@link neuron.engine.chain.WsChainClient}) and the follower that turns a chain source into a feed of blocks that
 * can roll back ({@link neuron.engine.chain.ChainFollower}).
 */
package neuron.engine.chain;
