/**
 * The miner's training core on LibTorch: a LLaMA decoder with Hugging Face parameter names ({@link
 * neuron.engine.train.LlamaModel}), AdamW and a warmup-cosine LambdaLR written over tensor ops so that their state
 * is reachable ({@link neuron.engine.train.AdamW}, {@link neuron.engine.train.WarmupCosineSchedule}), batches
 * that are a pure function of (seed, step, data) ({@link neuron.engine.train.TokenData}), and the loop that owns
 * all of it ({@link neuron.engine.train.MinerLoop}): {@code state()} gives a checkpoint tree with live tensor
 * leaves, {@code restore(tree)} continues bit for bit on the same device and thread count.
 */
package neuron.engine.train;
