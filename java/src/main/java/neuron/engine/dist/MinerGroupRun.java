package neuron.engine.dist;

import neuron.engine.api.NeuronCheckpoints;
import neuron.engine.checkpoint.CheckpointClaim;
import neuron.engine.checkpoint.CheckpointConfig;
import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.miner.MinerLoop;
import neuron.engine.miner.MinerRun;
import neuron.engine.miner.MinerStart;
import neuron.engine.miner.Replica;
import neuron.engine.model.Devices;
import neuron.engine.model.ModelConfig;
import org.bytedeco.pytorch.Device;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * A miner as one rank of a data-parallel group, or on its own: resume from the newest complete checkpoint
 * whatever number of ranks wrote it (a sharded step, or one process's file), train with ZeRO-1, checkpoint its
 * shard through its own pipeline, and stop with the group: on a graceful stop every rank takes the same final
 * step; if a rank is lost, the others stop with one line naming it and the last complete step.
 */
public final class MinerGroupRun {
    private static final Logger LOG = LoggerFactory.getLogger(MinerGroupRun.class);
    /** How long the ranks wait for the slowest one's final checkpoint (a lone miner's final persist waits as long). */
    private static final Duration FINAL_PERSIST_WAIT = Duration.ofMinutes(30);

    private MinerGroupRun() {
    }

    /** Runs {@code settings} as {@code dist}'s rank; returns the final global step. */
    public static long run(MinerRun.Settings settings, DistConfig dist, CheckpointListener listener,
                           MinerRun.StepObserver observer, BooleanSupplier stop) throws IOException, InterruptedException {
        ShardLayout layout = new ShardLayout(settings.checkpoint().path());
        if (!dist.distributed()) {
            if (!Files.isDirectory(layout.root())) {
                return MinerRun.run(settings, listener, observer, stop);
            }
            ResumePoint point = ResumePoint.find(settings.checkpoint().files(), layout, false);
            if (!point.sharded()) {
                return MinerRun.run(settings, listener, observer, stop);
            }
            return MinerRun.run(withModel(settings, point.model()), Replica.ALONE,
                    start(point, Replica.ALONE, settings), listener, observer, stop);
        }
        try (Group group = Group.join(dist, isCuda(settings)); Heartbeats heartbeats = Heartbeats.start(group)) {
            ResumePoint point = ResumePoint.find(settings.checkpoint().files(), layout, true);
            if (!group.agree(point.step())) {
                throw new GroupFailure(dist.describe() + " found the newest checkpoint at global_step " + point.step()
                        + " but another rank found another: every rank must see the same " + layout.root()
                        + " (one host, or a shared file system)");
            }
            ModelConfig model = point.present() ? point.model()
                    : MinerStart.beginModel(settings.options(), settings.flags());
            BooleanSupplier stopRequested = orphaned(dist, stop);
            DataParallelReplica replica = new DataParallelReplica(group, model, stopRequested);
            MinerRun.Settings rank = new MinerRun.Settings(settings.options().withModel(model),
                    pipelineConfig(settings.checkpoint(), layout, dist, MinerLoop.checkpointBytes(model, replica)),
                    settings.checkpointInterval(), settings.maxSteps(), settings.flags());
            ShardReporter reporter = new ShardReporter(layout, group, settings.checkpoint().keepBackups() + 1);
            try {
                long step = MinerRun.run(rank, replica, start(point, replica, rank),
                        CheckpointListener.both(listener, reporter), observer, replica::stopAgreed);
                group.barrier(FINAL_PERSIST_WAIT);   // every rank reported its final shard; the last wrote the manifest
                if (dist.rank() == 0) {
                    LOG.info("group of {} stopped at global_step {}; {}", dist.worldSize(), step, newest(layout));
                }
                return step;
            } catch (GroupFailure | IllegalArgumentException e) {
                throw e;
            } catch (RuntimeException e) {
                throw heartbeats.explain(e, newest(layout));   // a collective failed: because of whom?
            } catch (IOException e) {
                heartbeats.failedHere(e);
                throw e;
            }
        }
    }

    /**
     * Resumed from {@code point} if there is one (the rank's own pipeline file, fresh in each run, cannot tell the
     * checkpoints where: it is said to them), else begun as a lone miner begins, every rank with the same weights.
     */
    private static MinerRun.Start start(ResumePoint point, Replica replica, MinerRun.Settings settings) {
        return new MinerRun.Start() {
            @Override
            public Optional<MinerLoop> resume(NeuronCheckpoints checkpoints) throws IOException {
                if (!point.present()) {
                    return Optional.empty();
                }
                MinerLoop loop = point.restore(replica);
                checkpoints.resumedAt(point.step());
                return Optional.of(loop);
            }

            @Override
            public MinerLoop fresh() {
                return MinerStart.begin(settings.options(), settings.flags(), replica).loop();
            }

            @Override
            public boolean checkpointsStart() {
                return point.present() && point.files().size() != replica.ranks();
            }
        };
    }

    private static MinerRun.Settings withModel(MinerRun.Settings settings, ModelConfig model) {
        return new MinerRun.Settings(settings.options().withModel(model), settings.checkpoint(),
                settings.checkpointInterval(), settings.maxSteps(), settings.flags());
    }

    private static boolean isCuda(MinerRun.Settings settings) {
        try (Device device = Devices.resolve(settings.options().device())) {
            return device.is_cuda();
        }
    }

    /**
     * The rank's own checkpoint pipeline: its file in the shards directory, no backups (complete steps are the
     * backups), and staging of its own. Whatever a previous run of this rank left there is removed first: a
     * step completes only within one run of the group, so a snapshot staged by an earlier one is of no use.
     */
    private static CheckpointConfig pipelineConfig(CheckpointConfig user, ShardLayout layout, DistConfig dist,
                                                   long stateBytes) throws IOException {
        Path file = layout.pipelineFile(dist.rank(), dist.worldSize());
        Path staging = user.stagingDir() == null ? null
                : user.stagingDir().resolve(ShardLayout.shardName(dist.rank(), dist.worldSize()) + ".staging");
        CheckpointConfig config = new CheckpointConfig(file, 0, staging);
        Files.createDirectories(layout.root());
        CheckpointClaim.clearLeftovers(config.files(), config.resolvedStagingDir(stateBytes));
        return config;
    }

    /** A rank the launcher started stops too when the launcher is gone (it took the group's store with it). */
    private static BooleanSupplier orphaned(DistConfig dist, BooleanSupplier stop) {
        if (!dist.storeHosted()) {
            return stop;
        }
        Optional<ProcessHandle> parent = ProcessHandle.current().parent();
        return () -> stop.getAsBoolean() || parent.map(p -> !p.isAlive()).orElse(true);
    }

    private static String newest(ShardLayout layout) {
        try {
            return layout.newestManifested().map(step -> "the newest complete checkpoint is global_step " + step
                    + " in " + layout.stepDir(step)).orElse("no sharded checkpoint is complete yet in " + layout);
        } catch (IOException e) {
            return "the checkpoints in " + layout + " cannot be read: " + e.getMessage();
        }
    }
}
