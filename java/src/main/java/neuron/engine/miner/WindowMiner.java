package neuron.engine.miner;

import neuron.engine.chain.BlockEvent;
import neuron.engine.chain.Follow;
import neuron.engine.chain.local.BlockFeeds;
import neuron.engine.model.Devices;
import neuron.engine.model.LlamaModel;
import neuron.engine.model.ModelConfig;
import neuron.engine.model.StateTrees;
import neuron.engine.model.TokenData;
import neuron.engine.network.Aggregate;
import neuron.engine.network.ChainUnavailableException;
import neuron.engine.network.Commitment;
import neuron.engine.network.Hash32;
import neuron.engine.network.ModelHash;
import neuron.engine.network.Submission;
import neuron.engine.network.SubmissionStore;
import neuron.engine.network.WindowData;
import neuron.engine.network.WindowSchedule;
import neuron.engine.pth.PyOrderedDict;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.bytedeco.pytorch.global.torch.manual_seed;
import static org.bytedeco.pytorch.global.torch.randn_like;
import static org.bytedeco.pytorch.global.torch.zeros_like;

/**
 * The miner's side of the window protocol, driven between training steps on the loop's thread:
 * <ul>
 * <li>it keeps the network's base B(w), built as every node builds it: B(0) = B(1) from the seed, then
 *     B(w+1) = B(w) + A(w-1), where A is the aggregate the followed validator commits (its file checked against
 *     its hash, the result against the base hash the file names);</li>
 * <li>once it has the current window's base it trains from it, on the window's assigned rows;</li>
 * <li>a little before the window's end it puts its update (parameters minus base) in the store, then commits
 *     the update's hash, so that a block of the window includes it.</li>
 * </ul>
 * A chain-follower thread collects the blocks' aggregate commitments. The base and the window are part of the
 * miner's checkpoint ({@link MinerRun.CheckpointPart}), so a restarted miner catches up from there.
 */
public final class WindowMiner implements MinerRun.CheckpointPart, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WindowMiner.class);
    public static final String CHECKPOINT_KEY = "window_state";
    /** Spread of the noise a {@link Update#NOISE} miner submits (the initial weights' own spread is 0.02). */
    private static final double NOISE_STD = 0.01;
    /** How long a step may wait for the next block when there is nothing to train for. */
    private static final Duration IDLE_WAIT = Duration.ofMillis(200);
    private static final Duration POLL = Duration.ofSeconds(1);

    /** What the miner submits: its training, or (to show what validators do with them) nothing of value. */
    public enum Update {
        TRAINED, ZERO, NOISE
    }

    /**
     * @param validatorUid the validator whose aggregates the miner follows (the network's lead validator)
     * @param assignedRows the rows a window assigns each miner, as the validators' configuration says
     */
    public record Settings(String chain, long blockTimeMs, Path store, int uid, int validatorUid,
                           WindowSchedule schedule, int assignedRows, Update update) {
        public Settings {
            Commitment.checkUid("--uid", uid);
            Commitment.checkUid("--validator_uid", validatorUid);
        }
    }

    private final Settings settings;
    private final SubmissionStore store;
    /** The followed validator's aggregate commitments by window (the first one per window still on the chain). */
    private final Map<Long, Posted> aggregates = new ConcurrentHashMap<>();
    private volatile boolean closed;
    /** Why the follower stopped, for the loop to stop on rather than wait for aggregates that cannot come. */
    private volatile RuntimeException followFailure;
    private BlockFeeds.Connection chain;
    private Thread follower;

    // the loop thread's
    private Map<String, Tensor> base;
    private Map<String, long[]> shapes;
    private TokenData data;
    private long baseWindow;
    private Hash32 baseHash;
    private long trainingWindow = -1;
    private boolean submitted;
    private long waitingFor = -1;

    public WindowMiner(Settings settings) {
        this.settings = settings;
        this.store = SubmissionStore.at(settings.store());
    }

    @Override
    public String key() {
        return CHECKPOINT_KEY;
    }

    @Override
    public long bytes(ModelConfig model) {
        return Float.BYTES * model.parameterCount();
    }

    /**
     * {@code window_state}: {@code window} (the base's window), {@code base_hash}, {@code base_state_dict},
     * {@code training_window} (the window the model is trained for, -1 for none) and {@code submitted}.
     */
    @Override
    public Object state() {
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("window", baseWindow);
        tree.put("base_hash", baseHash.toHex());
        tree.put("base_state_dict", new PyOrderedDict(base));
        tree.put("training_window", trainingWindow);
        tree.put("submitted", submitted);
        return tree;
    }

    /** Takes the base back from the checkpoint (else from the seed), then follows the chain from its window. */
    @Override
    public void restore(Object saved, MinerLoop loop) {
        shapes = LlamaModel.shapes(loop.options().model());
        data = TokenData.open(loop.options().data());
        if (saved instanceof Map<?, ?> tree) {
            Map<String, Tensor> restored = new LinkedHashMap<>();
            Map<?, ?> dict = StateTrees.map(tree, "base_state_dict");
            shapes.keySet().forEach(name -> restored.put(name, StateTrees.tensor(dict, name).clone()));
            base = Collections.unmodifiableMap(restored);
            baseWindow = StateTrees.longValue(tree, "window");
            baseHash = ModelHash.of(base);
            if (!baseHash.toHex().equals(StateTrees.as(String.class, tree, "base_hash"))) {
                throw new IllegalArgumentException("the checkpoint's window_state base_hash is not the hash of its "
                        + "base_state_dict");
            }
            trainingWindow = StateTrees.longValue(tree, "training_window");
            submitted = StateTrees.as(Boolean.class, tree, "submitted");
            if (trainingWindow >= 0) {
                train(loop, trainingWindow);  // the model went on training for it: on the same rows
            }
            LOG.info("miner {}: the network's base of window {} restored ({}); catching up from there", settings.uid(),
                    baseWindow, baseHash);
        } else {
            base = initialBase(loop);
            baseWindow = 0;
            baseHash = ModelHash.of(base);
            LOG.info("miner {}: starting from the network's first base ({}), catching up from window 0",
                    settings.uid(), baseHash);
        }
        chain = BlockFeeds.connect(settings.chain(), settings.blockTimeMs(), Follow.BEST, List.of(),
                Math.max(0, settings.schedule().firstBlock(baseWindow)));
        follower = new Thread(this::follow, "chain-follower");
        follower.setDaemon(true);
        follower.start();
    }

    /** B(0): the model drawn from the seed, as a fresh loop holds it (or as it was before this loop trained). */
    private static Map<String, Tensor> initialBase(MinerLoop loop) {
        Map<String, Tensor> copy = new LinkedHashMap<>();
        try (NoGradGuard noGrad = new NoGradGuard()) {
            if (loop.globalStep() == 0) {
                loop.model().stateDict().forEach((name, p) -> copy.put(name, p.cpu().clone()));
            } else {
                try (LlamaModel fresh = new LlamaModel(loop.options().model(), loop.options().seed(), Devices.resolve("cpu"))) {
                    fresh.stateDict().forEach((name, p) -> copy.put(name, p.clone()));
                }
            }
        }
        return Collections.unmodifiableMap(copy);
    }

    private void follow() {
        try {
            while (!closed) {
                BlockEvent event = chain.feed().next(POLL);
                if (event == null) {
                    continue;
                }
                if (event.reorg()) {   // what the replaced blocks committed is no longer on the chain
                    aggregates.values().removeIf(posted -> posted.block() >= event.number());
                }
                for (Commitment c : event.block().commitments()) {
                    if (c.kind() == Commitment.Kind.AGGREGATE && c.uid() == settings.validatorUid()) {
                        aggregates.putIfAbsent(c.window(), new Posted(c.hash(), event.number()));
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            followFailure = e;
            LOG.error("miner {}: stopped following the chain: {}", settings.uid(), e.getMessage());
        }
    }

    /** An aggregate commitment and the block that included it. */
    private record Posted(Hash32 hash, long block) {
    }

    /**
     * Between two steps: submit when the window nears its end, move the base on, start the next window. Timing
     * goes by the chain's head (the follower may still be catching up through older blocks). {@code beforeChange}
     * runs before the base or the model is changed here (the checkpointer's awaitStaging: a snapshot may still be
     * copying them).
     */
    public void afterStep(MinerLoop loop, Runnable beforeChange) throws InterruptedException {
        RuntimeException failed = followFailure;
        if (failed != null) {
            throw new IllegalStateException("miner " + settings.uid() + " stopped following the chain: "
                    + failed.getMessage(), failed);
        }
        long block = chain.window().head();
        if (block < 0) {
            chain.window().awaitHead(0, IDLE_WAIT);
            return;
        }
        long current = settings.schedule().windowOf(block);
        if (trainingWindow >= 0 && !submitted && block >= settings.schedule().submitBlock(trainingWindow)) {
            submit(loop, block);
        }
        catchUp(current, beforeChange);
        if (baseWindow == current && trainingWindow != current && block < settings.schedule().submitBlock(current)) {
            beforeChange.run();
            loop.model().load(base);
            trainingWindow = current;
            submitted = false;
            train(loop, current);
            LOG.info("miner {}: training window {} from base {} (block {})", settings.uid(), current, baseHash, block);
        }
        if (settings.update() != Update.TRAINED || trainingWindow != current || submitted) {
            chain.window().awaitHead(block + 1, IDLE_WAIT);  // nothing worth training for: do not burn the cores
        }
    }

    /** From the next step on, the loop trains on its assigned rows of {@code window}. */
    private void train(MinerLoop loop, long window) {
        loop.useBatches(WindowData.assignedBatches(data, loop.options().seed(), settings.uid(), window,
                settings.assignedRows(), loop.options().model().seqLen() + 1));
    }

    /** Puts the update in the store and commits it, if a block of its window can still include the commitment. */
    private void submit(MinerLoop loop, long block) {
        submitted = true;
        long window = trainingWindow;
        if (block > settings.schedule().lastSubmitBlock(window)) {
            LOG.warn("miner {}: window {} is over (block {}) before its update was ready: not submitted",
                    settings.uid(), window, block);
            return;
        }
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            Map<String, Tensor> delta = new LinkedHashMap<>();
            if (settings.update() == Update.NOISE) {
                manual_seed(window * 65_537 + settings.uid());
            }
            loop.model().stateDict().forEach((name, p) -> {
                Tensor b = base.get(name);
                delta.put(name, switch (settings.update()) {
                    case TRAINED -> p.cpu().sub(b);
                    case ZERO -> zeros_like(b);
                    case NOISE -> randn_like(b).mul(new Scalar(NOISE_STD));
                });
            });
            Hash32 hash = store.put(Submission.tree(settings.uid(), window, baseHash, delta));
            chain.window().commit(new Commitment(Commitment.Kind.UPDATE, settings.uid(), window, hash));
            LOG.info("miner {}: committed its update for window {} at block {} ({}, global_step {})", settings.uid(),
                    window, block, hash, loop.globalStep());
        } catch (IOException | ChainUnavailableException e) {
            LOG.error("miner {}: could not submit its update for window {}: {}", settings.uid(), window, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Moves the base towards window {@code current}, one aggregate at a time, as far as they are committed. */
    private void catchUp(long current, Runnable beforeChange) {
        while (baseWindow < current) {
            long needed = baseWindow - 1;  // B(k+1) = B(k) + A(k-1)
            Posted posted = needed < 0 ? null : aggregates.get(needed);
            Hash32 hash = needed < 0 ? Hash32.ZERO : posted == null ? null : posted.hash();
            if (hash == null) {
                if (waitingFor != needed) {
                    waitingFor = needed;
                    LOG.info("miner {}: waiting for validator {}'s aggregate of window {} (the base of window {})",
                            settings.uid(), settings.validatorUid(), needed, baseWindow + 1);
                }
                return;
            }
            if (!hash.equals(Hash32.ZERO) && !apply(needed, hash, beforeChange)) {
                return;
            }
            baseWindow++;
            aggregates.remove(needed);
        }
    }

    /** Adds aggregate A(window) to the base; false (and logged) when it cannot be had or does not check out. */
    private boolean apply(long window, Hash32 hash, Runnable beforeChange) {
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            Aggregate aggregate = Aggregate.read(store.verified(hash, Long.MAX_VALUE), window, shapes);
            Hash32 after = ModelHash.of(base, aggregate.tensors());
            if (!after.equals(aggregate.base())) {
                LOG.error("miner {}: OUT OF SYNC: the aggregate of window {} makes base {}, its validator says {}; "
                        + "this miner's base is not the network's", settings.uid(), window, after, aggregate.base());
                return false;
            }
            beforeChange.run();
            base.forEach((name, b) -> b.add_(aggregate.tensors().get(name)));
            baseHash = after;
            return true;
        } catch (Submission.Rejected e) {
            LOG.warn("miner {}: the aggregate of window {} ({}) cannot be used yet: {}", settings.uid(), window, hash,
                    e.getMessage());
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        if (follower != null) {
            follower.join(5_000);
        }
        if (chain != null) {
            chain.close();
        }
        if (base != null) {
            base.values().forEach(Tensor::close);
        }
    }
}
