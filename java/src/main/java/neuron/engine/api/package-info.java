/**
 * The engine as a library: asynchronous {@code torch.save} checkpoints and a crash-proof block feed for a miner
 * or validator that brings its own model, optimizer and loop.
 *
 * <p>{@link neuron.engine.api.NeuronCheckpoints} is the checkpoint lifecycle (open, restore, a snapshot when the
 * interval says so, the final checkpoint at close); {@link neuron.engine.api.NeuronBlocks} is a validator's
 * blocks (journaled replay after a restart, then the chain, each block journaled before it is handed out).
 *
 * <p>What a loop hands over is a {@link neuron.engine.checkpoint.StateSource}: a {@code torch.save} value tree
 * and a way to copy each storage. {@link neuron.engine.torch.TensorTreeSource#of} is the ready one for a tree of
 * LibTorch tensors and Python-like values ({@code Map} and {@link neuron.engine.pth.PyOrderedDict} as dicts,
 * {@code List} as lists, {@link neuron.engine.pth.PyTuple} as tuples, {@code Long}, {@code Double},
 * {@code String}, {@code Boolean}, {@code null}); {@link neuron.engine.torch.TensorTrees#stored} gives a stored
 * checkpoint's tree with {@link neuron.engine.torch.StoredTensor} leaves, each read straight into the live tensor
 * it is copied into. Call {@link neuron.engine.nativeio.LibTorch#load()} before
 * touching any {@code org.bytedeco.pytorch} class.
 */
package neuron.engine.api;
