package neuron.engine.dist;

import neuron.engine.miner.Replica;
import neuron.engine.model.LlamaModel;
import neuron.engine.model.ModelConfig;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.Work;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;

import static org.bytedeco.pytorch.global.torch.tensor;

/**
 * One rank of a data-parallel group with ZeRO-1: gradients averaged in buckets during the backward (DDP's
 * reducer), each parameter updated by its owner only, then sent from its owner to every rank (one broadcast per
 * parameter, all in flight at once, in place: the all-gather of the shards with no gather buffer). The step's
 * loss is averaged over the ranks in the same reduction that lets them agree on a graceful stop, so every rank
 * stops after the same step.
 */
public final class DataParallelReplica implements Replica {
    private static final Logger LOG = LoggerFactory.getLogger(DataParallelReplica.class);

    private final Group group;
    private final Ownership ownership;
    private final List<String> names;
    private final BooleanSupplier stopRequested;
    private GradientBuckets buckets;
    private List<Tensor> values = List.of();
    private boolean stopAgreed;

    /** @param stopRequested this rank's own stop request (a signal); {@link #stopAgreed()} is the group's */
    public DataParallelReplica(Group group, ModelConfig config, BooleanSupplier stopRequested) {
        this.group = group;
        this.names = List.copyOf(LlamaModel.shapes(config).keySet());
        long[] numels = numels(config);
        this.ownership = Ownership.of(numels, group.size());
        this.stopRequested = stopRequested;
        long mine = ownership.loads(numels)[group.rank()];
        LOG.info(String.format(Locale.ROOT, "%s updates %d of %d parameter elements (%.1f%%)",
                group.config().describe(), mine, Arrays.stream(numels).sum(),
                100.0 * mine / Arrays.stream(numels).sum()));
    }

    static long[] numels(ModelConfig config) {
        return LlamaModel.shapes(config).values().stream()
                .mapToLong(shape -> Arrays.stream(shape).reduce(1, Math::multiplyExact)).toArray();
    }

    public Ownership ownership() {
        return ownership;
    }

    @Override
    public int rank() {
        return group.rank();
    }

    @Override
    public int ranks() {
        return group.size();
    }

    @Override
    public boolean updates(int parameter) {
        return ownership.owner(parameter) == group.rank();
    }

    @Override
    public void attach(List<Tensor> parameters, List<Tensor> values) {
        this.buckets = new GradientBuckets(group, parameters, names, group.config().bucketBytes());
        this.values = values;
    }

    @Override
    public void beforeBackward() {
        buckets.beforeBackward();
    }

    @Override
    public void afterUpdate() {
        try (NoGradGuard noGrad = new NoGradGuard()) {
            List<Work> inFlight = new ArrayList<>(values.size());
            for (int i = 0; i < values.size(); i++) {
                inFlight.add(group.broadcast(values.get(i), ownership.owner(i)));
            }
            for (Work w : inFlight) {
                w._wait();
            }
        }
    }

    /** The mean of the ranks' losses (equal slices: the global batch's loss); also agrees on a stop. */
    @Override
    public float globalLoss(Tensor loss) {
        Tensor sums = tensor(new float[]{loss.item_float(), stopRequested.getAsBoolean() ? 1f : 0f});
        group.allreduceSum(sums);
        stopAgreed = sums.get(1).item_float() > 0;
        return sums.get(0).item_float() / group.size();
    }

    /** Whether some rank asked to stop in the last step: then every rank stops after it. */
    public boolean stopAgreed() {
        return stopAgreed;
    }
}
