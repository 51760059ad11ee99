/**
 * The miner: AdamW and a warmup-cosine LambdaLR written over tensor ops so that their state is reachable
 * ({@link neuron.engine.miner.AdamW}, {@link neuron.engine.miner.WarmupCosineSchedule}), the loop that owns the
 * model, optimizer, schedule and data ({@link neuron.engine.miner.MinerLoop}: {@code state()} gives a checkpoint
 * tree with live tensor leaves, {@code restore(tree)} continues bit for bit on the same device and thread count),
 * how a run starts (resume, a Python checkpoint's layout, flag precedence) and the miner's side of the window
 * protocol ({@link neuron.engine.miner.WindowMiner}).
 */
package neuron.engine.miner;
