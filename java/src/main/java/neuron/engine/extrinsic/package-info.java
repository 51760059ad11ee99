/**
 * Signed extrinsics built from a runtime's metadata: the metadata decoder ({@link neuron.engine.extrinsic.RuntimeMetadata},
 * V14 and V15), calls encoded from plain values through its type registry ({@link neuron.engine.extrinsic.ScaleCodec}),
 * v4 signed extrinsics with their transaction extensions ({@link neuron.engine.extrinsic.ExtrinsicSigner}), and
 * submission followed to inclusion and finality ({@link neuron.engine.extrinsic.ExtrinsicClient}). It builds on
 * {@code chain.scale}, {@code keys} and the chain client's JSON-RPC transport; nothing there depends on it.
 */
package neuron.engine.extrinsic;
