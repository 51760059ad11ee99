package neuron.engine.dist;

import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.checkpoint.Failures;
import org.bytedeco.pytorch.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes a sharded step complete once, and only once, every rank has its shard on disk. Runs on the rank's
 * checkpoint writer thread, after the pipeline installed the shard: moves it into its step's directory, then
 * reports it (file, size, CRC-32) to the group's store and counts it; the rank whose report completes the
 * count writes the step's manifest and prunes old steps. A rank that dies before reporting leaves its step
 * without a manifest: incomplete, never loaded.
 */
final class ShardReporter implements CheckpointListener {
    private static final Logger LOG = LoggerFactory.getLogger(ShardReporter.class);

    private final ShardLayout layout;
    private final DistConfig config;
    private final Store store;
    private final int keepSteps;

    /** @param keepSteps complete steps kept on disk (the newest ones) */
    ShardReporter(ShardLayout layout, Group group, int keepSteps) {
        this.layout = layout;
        this.config = group.config();
        this.store = group.storeConnection();
        this.keepSteps = Math.max(1, keepSteps);
    }

    @Override
    public void persisted(long step, Path path, long bytes, long persistNanos) {
        try {
            Path shard = layout.settle(step, config.rank(), config.worldSize());
            ShardManifest.Shard report = new ShardManifest.Shard(config.rank(), shard.getFileName().toString(),
                    Files.size(shard), ShardManifest.fileCrc32(shard));
            store.set(reportKey(step, config.rank()), report.encode());
            if (store.add(countKey(step), 1) == config.worldSize()) {
                complete(step);
            }
        } catch (IOException | RuntimeException e) {
            LOG.error("{}: shard of step {} NOT reported ({}); the step stays incomplete", config.describe(), step,
                    Failures.oneLine(e));
        }
    }

    /** Every rank reported {@code step}: write its manifest, then keep only the newest complete steps. */
    private void complete(long step) throws IOException {
        List<ShardManifest.Shard> shards = new ArrayList<>();
        for (int r = 0; r < config.worldSize(); r++) {
            shards.add(ShardManifest.Shard.decode(store.get_to_str(reportKey(step, r))));
        }
        ShardManifest manifest = new ShardManifest(step, config.worldSize(), shards);
        layout.writeManifest(manifest);
        LOG.info("checkpoint step {} complete: {} shards, {} bytes, {}", step, shards.size(),
                shards.stream().mapToLong(ShardManifest.Shard::bytes).sum(), layout.stepDir(step));
        layout.retain(keepSteps, step);
    }

    private static String reportKey(long step, int rank) {
        return "neuron/shard/" + step + "/" + rank;
    }

    private static String countKey(long step) {
        return "neuron/shard/" + step + "/reported";
    }
}
