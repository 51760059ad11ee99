package neuron.engine.dist;

import neuron.engine.checkpoint.CheckpointFiles;
import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.miner.MinerLoop;
import neuron.engine.miner.MinerRun;
import neuron.engine.miner.Replica;
import neuron.engine.model.ModelConfig;
import neuron.engine.pth.PthReader;
import neuron.engine.torch.TensorTrees;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where a miner resumes, whatever number of ranks wrote it and whatever number resumes: the newest of the
 * complete sharded steps and the checkpoint file (a one-process run's). On a tie, the layout of the resuming
 * group wins. Every rank of a group finds the same point, because they read the same files.
 *
 * @param step  its {@code global_step}, -1 for none
 * @param files the shard files in rank order, or the one checkpoint file
 */
record ResumePoint(long step, List<Path> files, boolean sharded, ModelConfig model) {
    private static final Logger LOG = LoggerFactory.getLogger(ResumePoint.class);
    static final ResumePoint NONE = new ResumePoint(-1, List.of(), false, null);

    /**
     * The newest point among {@code single}'s files (each CRC checked) and {@code layout}'s complete steps (each
     * shard's size and whole-file CRC-32 checked against the manifest); on a tie, sharded if {@code preferSharded}.
     */
    static ResumePoint find(CheckpointFiles single, ShardLayout layout, boolean preferSharded) throws IOException {
        ResumePoint file = NONE;
        for (Path candidate : single.candidates()) {
            long step = CheckpointLoader.peekProgress(candidate, MinerRun.PROGRESS_KEY);
            if (step >= 0) {
                file = new ResumePoint(step, List.of(candidate), false, null);
                break;
            }
        }
        ResumePoint shards = NONE;
        Optional<ShardManifest> manifest = layout.newestComplete();
        if (manifest.isPresent()) {
            List<Path> paths = new ArrayList<>();
            for (ShardManifest.Shard s : manifest.get().shards()) {
                paths.add(layout.stepDir(manifest.get().step()).resolve(s.file()));
            }
            shards = new ResumePoint(manifest.get().step(), paths, true, null);
        }
        ResumePoint newest = shards.step > file.step || (shards.step == file.step && preferSharded) ? shards : file;
        return newest.step < 0 ? NONE : newest.withModel();
    }

    private ResumePoint withModel() throws IOException {
        try (PthReader reader = PthReader.open(files.get(0))) {
            return new ResumePoint(step, files, sharded, ShardTrees.modelOf((Map<?, ?>) reader.root()));
        }
    }

    boolean present() {
        return step >= 0;
    }

    /**
     * Restores {@code replica}'s loop: every parameter from whichever file holds it, the optimizer state of the
     * parameters {@code replica} updates, the rest from the first file. {@link #find} checked the files' CRCs.
     */
    MinerLoop restore(Replica replica) throws IOException {
        List<Map<?, ?>> parts = new ArrayList<>();
        for (Path file : files) {
            try (PthReader reader = PthReader.open(file)) {
                parts.add((Map<?, ?>) TensorTrees.materialize(
                        ShardTrees.forRank((Map<?, ?>) reader.root(), replica::updates), reader));
            }
        }
        MinerLoop loop = MinerLoop.restore(ShardTrees.merge(parts), replica);
        LOG.info("rank {} of {} resumed at global_step {} from {} written by {} rank{}", replica.rank(),
                replica.ranks(), step, sharded ? files.get(0).getParent() : files.get(0), files.size(),
                files.size() == 1 ? "" : "s");
        return loop;
    }
}
