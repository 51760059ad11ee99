package neuron.engine.miner;

import neuron.engine.model.BatchPlan;
import neuron.engine.model.Devices;
import neuron.engine.model.LlamaModel;
import neuron.engine.model.ModelConfig;
import neuron.engine.model.Precision;
import neuron.engine.model.StateTrees;
import neuron.engine.model.TokenData;
import neuron.engine.pth.PyOrderedDict;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads;
import static org.bytedeco.pytorch.global.torch.ScalarType;
import static org.bytedeco.pytorch.global.torch.empty;
import static org.bytedeco.pytorch.global.torch.set_num_threads;

/**
 * A miner's training loop and the whole of its state: model, AdamW, schedule, data, seed and global step.
 * {@link #state()} exposes that state as a checkpoint tree whose tensor leaves are the live tensors, and
 * {@link #restore(Map)} rebuilds a loop from such a tree (with copied tensors) that continues bit for bit.
 *
 * <p>Single-threaded: call {@link #step()}, {@link #state()} and {@link #close()} from one thread; the state's
 * tensors may be read by another thread until the next optimizer update (see {@link #beforeUpdate}). Create it outside any {@link PointerScope}, which would otherwise
 * free its tensors.
 */
public final class MinerLoop implements AutoCloseable {
    private final MinerOptions options;
    private final TokenData data;
    private final long dataFingerprint;
    private final Device device;
    private final LlamaModel model;
    private final AdamW optimizer;
    private final WarmupCosineSchedule schedule;
    private final Replica replica;
    private final int firstRow;              // this rank's rows of each global batch: firstRow .. firstRow + rows
    private final long[] batchTokens;
    private final Tensor batchHost;          // (rows, seqLen + 1) int64 on the CPU, refilled every step
    private final LongPointer batchHostData;
    private BatchPlan batches = (data, step, first, rows, width, out) ->
            data.fillBatch(options().seed(), step, first, rows, width, out);
    private long globalStep;
    private Runnable beforeUpdate = () -> {
    };
    private BooleanSupplier stateFinite = () -> true;

    private MinerLoop(MinerOptions options, TokenData data, Replica replica) {
        if (PointerScope.getInnerScope() != null) {
            throw new IllegalStateException("create the miner loop outside any PointerScope: it would free the loop's tensors");
        }
        ModelConfig config = options.model();
        if (data.maxToken() >= config.vocab()) {
            throw new IllegalArgumentException("data " + data.source() + " holds token id " + data.maxToken()
                    + " but the model's vocabulary has " + config.vocab() + " ids; use a vocabulary of at least "
                    + (data.maxToken() + 1));
        }
        int batch = options.training().batchSize();
        if (batch % replica.ranks() != 0) {
            throw new IllegalArgumentException("--batch_size " + batch + " does not split evenly over "
                    + replica.ranks() + " ranks; use a multiple of " + replica.ranks());
        }
        this.options = options;
        this.data = data;
        this.replica = replica;
        this.dataFingerprint = data.fingerprint();
        set_num_threads(options.threads());
        // ATen's intra-op threads do the parallel work; OpenBLAS's own pool (nproc threads by default) on top of
        // them oversubscribes the cores and made a tiny step ~50x slower here
        blas_set_num_threads(1);
        this.device = Devices.resolve(options.device());
        this.model = new LlamaModel(config, options.seed(), device);
        model.computeIn(Precision.resolve(options.precision(), device));
        this.optimizer = new AdamW(model, options.training(), replica::updates);
        this.schedule = new WarmupCosineSchedule(options.training());
        optimizer.setLr(schedule.lr());
        replica.attach(List.copyOf(model.parameters().values()), List.copyOf(model.stateDict().values()));
        int rows = batch / replica.ranks();
        this.firstRow = replica.rank() * rows;
        int width = config.seqLen() + 1;
        this.batchTokens = new long[rows * width];
        this.batchHost = empty(new long[]{rows, width}, new TensorOptions(ScalarType.Long), null);
        this.batchHostData = new LongPointer(batchHost.data_ptr()).capacity(batchTokens.length);
    }

    /**
     * The bytes of a miner's checkpoint state once AdamW has stepped: float32 parameters and their two moments
     * (plus one 4-byte step per parameter tensor), known before any tensor is allocated so staging can be sized.
     */
    public static long checkpointBytes(ModelConfig config) {
        return checkpointBytes(config, Replica.ALONE);
    }

    /** As {@link #checkpointBytes(ModelConfig)}, for the part of the state {@code replica}'s rank checkpoints. */
    public static long checkpointBytes(ModelConfig config, Replica replica) {
        long bytes = 0;
        int i = 0;
        for (long[] shape : LlamaModel.shapes(config).values()) {
            if (replica.updates(i++)) {
                bytes += 3L * Float.BYTES * Arrays.stream(shape).reduce(1, Math::multiplyExact) + Float.BYTES;
            }
        }
        return bytes;
    }

    /** A fresh run: weights drawn from the seed, step 0. */
    public static MinerLoop create(MinerOptions options) {
        return create(options, Replica.ALONE);
    }

    /** A fresh run as one rank of a data-parallel group: every rank draws the same weights from the seed. */
    public static MinerLoop create(MinerOptions options, Replica replica) {
        return new MinerLoop(options, TokenData.open(options.data()), replica);
    }

    /**
     * Rebuilds the loop that produced {@code tree} (a {@link #state()} whose tensors may be copies on any device).
     * Its {@code global_step} is taken as is.
     */
    public static MinerLoop restore(Map<?, ?> tree) {
        return restore(tree, Replica.ALONE);
    }

    /**
     * As {@link #restore(Map)}, as one rank of a data-parallel group: {@code tree} holds every parameter and the
     * optimizer state of exactly the parameters {@code replica} updates.
     */
    public static MinerLoop restore(Map<?, ?> tree, Replica replica) {
        Map<?, ?> config = StateTrees.map(tree, "config");
        MinerOptions options = MinerOptions.fromConfigMap(config, StateTrees.longValue(tree, "seed"));
        TokenData data = TokenData.open(options.data());
        long expectedFingerprint = StateTrees.longValue(config, "data_fingerprint");
        if (data.fingerprint() != expectedFingerprint) {
            throw new IllegalArgumentException("data " + options.data() + " differs from the data this state was trained on");
        }
        return restore(tree, options, data, replica);
    }

    /**
     * As {@link #restore(Map)}, with the options and the data decided by the caller instead of read from the tree's
     * {@code config} and {@code seed}. An absent {@code optimizer_state_dict} leaves AdamW with empty moments at the
     * schedule's lr.
     */
    public static MinerLoop restore(Map<?, ?> tree, MinerOptions options, TokenData data) {
        return restore(tree, options, data, Replica.ALONE);
    }

    private static MinerLoop restore(Map<?, ?> tree, MinerOptions options, TokenData data, Replica replica) {
        MinerLoop loop = new MinerLoop(options, data, replica);
        boolean hasOptimizerState = tree.containsKey("optimizer_state_dict");
        try (PointerScope scope = new PointerScope()) {
            loop.model.load(StateTrees.map(tree, "model_state_dict"));
            if (hasOptimizerState) {
                loop.optimizer.loadStateDict(StateTrees.map(tree, "optimizer_state_dict"));
            }
            loop.schedule.loadStateDict(StateTrees.map(tree, "scheduler_state_dict"));
            if (!hasOptimizerState) {
                loop.optimizer.setLr(loop.schedule.lr());
            }
            loop.globalStep = StateTrees.longValue(tree, "global_step");
            return loop;
        } catch (RuntimeException e) {
            loop.close();
            throw e;
        }
    }

    /**
     * One optimizer step on the batch of the current global step (its {@code gradAccum} micro-batches); returns that
     * batch's loss (before the update). If it throws, the state may be half-updated: restore from the last snapshot
     * rather than stepping on.
     */
    public float step() {
        ModelConfig config = options.model();
        int seq = config.seqLen();
        int microBatches = options.training().gradAccum();
        int batchRows = options.training().batchSize();
        try (PointerScope scope = new PointerScope()) {
            Tensor loss = null;
            for (int micro = 0; micro < microBatches; micro++) {
                batches.fill(data, globalStep, micro * batchRows + firstRow, (int) batchHost.size(0), seq + 1,
                        batchTokens);
                batchHostData.put(batchTokens);
                Tensor batch = batchHost.to(device, ScalarType.Long);
                Tensor microLoss = model.loss(batch.narrow(1, 0, seq), batch.narrow(1, 1, seq));
                // the mean over all micro-batches' rows: each adds 1/N of its mean to the gradients
                Tensor scaled = microBatches == 1 ? microLoss : microLoss.div(new Scalar((double) microBatches));
                if (micro == microBatches - 1) {
                    replica.beforeBackward();   // ranks average the summed gradients once, as DDP after no_sync
                }
                scaled.backward();
                loss = loss == null ? scaled.detach() : loss.add(scaled.detach());
            }
            GradientClipping.clip(model.parameters().values(), options.training().gradClip());
            beforeUpdate.run();
            boolean finite = stateFinite.getAsBoolean();
            optimizer.step();
            replica.afterUpdate();
            optimizer.zeroGrad();
            optimizer.setLr(schedule.step());
            globalStep++;
            return replica.globalLoss(finite ? loss : loss.add(new Scalar(Float.NaN)));
        }
    }

    /**
     * Runs {@code barrier} in each step right before the optimizer update, the step's first write of the state
     * (parameters, moments, step counts; the schedule and global_step are Java values a snapshot captures): the
     * checkpointer's {@code awaitStaging}, so a snapshot's copy overlaps the next forward and backward.
     */
    public void beforeUpdate(Runnable barrier) {
        this.beforeUpdate = barrier;
    }

    /**
     * Asks {@code finite} in each step, after {@link #beforeUpdate}'s barrier, whether the state's last snapshot
     * held only finite values; when not, the step's loss is NaN, on every rank of a group (the loss is what the
     * ranks exchange), so that each stops after the same step.
     */
    public void stateCheck(BooleanSupplier finite) {
        this.stateFinite = finite;
    }

    /**
     * The checkpoint tree: {@code global_step}, {@code model_state_dict} (an OrderedDict of HF names),
     * {@code optimizer_state_dict} (AdamW layout), {@code scheduler_state_dict} (LambdaLR layout),
     * {@code config} and {@code seed}. Tensor leaves are live: valid until the next step or {@link #close()}.
     * A rank of a larger group gives its shard: the parameters it updates, their optimizer state, and
     * {@code shard} = {@code {rank, world_size}}.
     */
    public Map<String, Object> state() {
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("global_step", globalStep);
        Map<String, Tensor> parameters = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, Tensor> p : model.stateDict().entrySet()) {
            if (replica.updates(i++)) {
                parameters.put(p.getKey(), p.getValue());
            }
        }
        tree.put("model_state_dict", new PyOrderedDict(LlamaModel.withTiedHead(model.config(), parameters)));
        tree.put("optimizer_state_dict", optimizer.stateDict());
        tree.put("scheduler_state_dict", schedule.stateDict());
        tree.put("config", options.toConfigMap(dataFingerprint));
        tree.put("seed", options.seed());
        if (replica.ranks() > 1) {
            Map<String, Object> shard = new LinkedHashMap<>();
            shard.put("rank", (long) replica.rank());
            shard.put("world_size", (long) replica.ranks());
            tree.put("shard", shard);
        }
        return tree;
    }

    public long globalStep() {
        return globalStep;
    }

    /** From the next step on, batches come from {@code plan} (a network's assigned data) instead of the seed. */
    public void useBatches(BatchPlan plan) {
        this.batches = plan;
    }

    public MinerOptions options() {
        return options;
    }

    public LlamaModel model() {
        return model;
    }

    /** The lr the next step will use. */
    public double lr() {
        return optimizer.lr();
    }

    /** Tokens one optimizer step consumes (micro-batch × micro-batches × sequence length). */
    public long tokensPerStep() {
        return (long) options.training().batchSize() * options.training().gradAccum() * options.model().seqLen();
    }

    @Override
    public void close() {
        optimizer.close();
        model.close();
        batchHostData.close();
        batchHost.close();
        device.close();
    }
}
