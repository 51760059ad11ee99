package neuron.engine.dist;

import neuron.engine.checkpoint.Failures;
import neuron.engine.nativeio.NativeFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A sharded checkpoint on disk, beside the checkpoint path {@code P} of a group's miners:
 * <pre>
 * P.shards/step-0000000500/rank-0-of-2.pth   rank 0's shard of step 500 (a torch.save file)
 * P.shards/step-0000000500/rank-1-of-2.pth
 * P.shards/step-0000000500/manifest.json     written last, once every rank reported: the step is complete
 * P.shards/rank-1-of-2.pth.tmp               a persist in progress (the checkpoint pipeline's file)
 * </pre>
 * The pipeline of rank r persists and installs {@code P.shards/rank-r-of-N.pth}, which then moves into its
 * step's directory. The directory must be one file system that every rank sees (one host, or a shared mount).
 */
final class ShardLayout {
    private static final Logger LOG = LoggerFactory.getLogger(ShardLayout.class);
    private static final Pattern STEP_DIR = Pattern.compile("step-(\\d+)");

    private final Path root;

    ShardLayout(Path checkpoint) {
        Path absolute = checkpoint.toAbsolutePath().normalize();
        this.root = absolute.resolveSibling(absolute.getFileName() + ".shards");
    }

    Path root() {
        return root;
    }

    /** The file the checkpoint pipeline of {@code rank} persists and installs. */
    Path pipelineFile(int rank, int worldSize) {
        return root.resolve(shardName(rank, worldSize));
    }

    static String shardName(int rank, int worldSize) {
        return "rank-" + rank + "-of-" + worldSize + ".pth";
    }

    Path stepDir(long step) {
        return root.resolve(String.format("step-%010d", step));
    }

    /**
     * Moves the shard the pipeline just installed into its step's directory (replacing a shard of the same step
     * and rank written before, say by a run that resumed from an older step), durably; returns its new path.
     */
    Path settle(long step, int rank, int worldSize) throws IOException {
        Path dir = stepDir(step);
        Files.createDirectories(dir);
        Path target = dir.resolve(shardName(rank, worldSize));
        Files.move(pipelineFile(rank, worldSize), target, StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
        NativeFile.fsyncDirectory(dir);
        NativeFile.fsyncDirectory(root);
        return target;
    }

    /** Writes {@code manifest} into its step's directory atomically (temporary file, fsync, rename, fsync). */
    void writeManifest(ShardManifest manifest) throws IOException {
        Path dir = stepDir(manifest.step());
        Path tmp = dir.resolve(ShardManifest.FILE + ".tmp");
        NativeFile.removeStale(tmp);
        try (NativeFile file = NativeFile.create(tmp)) {
            file.write(java.nio.ByteBuffer.wrap(manifest.toJson()));
            file.fsync();
        }
        Files.move(tmp, dir.resolve(ShardManifest.FILE), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
        NativeFile.fsyncDirectory(dir);
    }

    /** The steps that have a directory, newest first. */
    List<Long> steps() throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<Long> steps = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
            for (Path d : dirs) {
                Matcher m = STEP_DIR.matcher(d.getFileName().toString());
                if (m.matches() && Files.isDirectory(d)) {
                    steps.add(Long.parseLong(m.group(1)));
                }
            }
        }
        steps.sort(Comparator.reverseOrder());
        return steps;
    }

    /**
     * The newest complete step: its manifest reads and every shard it lists is on disk with the size and CRC-32
     * it lists. Steps that fall short are logged and skipped, never loaded.
     */
    Optional<ShardManifest> newestComplete() throws IOException {
        for (long step : steps()) {
            Optional<ShardManifest> m = complete(step);
            if (m.isPresent()) {
                return m;
            }
        }
        return Optional.empty();
    }

    /**
     * The newest step with a manifest, without reading its shards: what a log line names (a resume still checks
     * the shards, and falls back if they do not match).
     */
    Optional<Long> newestManifested() throws IOException {
        for (long step : steps()) {
            if (Files.isRegularFile(stepDir(step).resolve(ShardManifest.FILE))) {
                return Optional.of(step);
            }
        }
        return Optional.empty();
    }

    Optional<ShardManifest> complete(long step) {
        Path file = stepDir(step).resolve(ShardManifest.FILE);
        if (!Files.isRegularFile(file)) {
            LOG.info("sharded step {} is incomplete (no {}): not loaded", step, ShardManifest.FILE);
            return Optional.empty();
        }
        try {
            ShardManifest m = ShardManifest.read(file);
            String mismatch = m.step() == step ? m.mismatch(stepDir(step)) : file + " names step " + m.step();
            if (mismatch == null) {
                return Optional.of(m);
            }
            LOG.error("SHARDED STEP {} CANNOT BE LOADED: {}", step, mismatch);
        } catch (IOException | RuntimeException e) {
            LOG.error("SHARDED STEP {} CANNOT BE LOADED: {}", step, Failures.oneLine(e));
        }
        return Optional.empty();
    }

    /**
     * After step {@code completed}: keeps the newest {@code keep} complete steps up to it and whatever is newer;
     * removes the directories of older steps, complete or not (an older incomplete step never completes: every
     * rank persists its steps in order). A newer step with a manifest is one a resume passed over (its shards did
     * not match): it is evidence, and must not push this run's good steps out.
     */
    void retain(int keep, long completed) throws IOException {
        List<Long> complete = new ArrayList<>();
        for (long step : steps()) {
            if (step <= completed && Files.isRegularFile(stepDir(step).resolve(ShardManifest.FILE))) {
                complete.add(step);
            }
        }
        if (complete.size() <= keep) {
            return;
        }
        long oldestKept = complete.get(keep - 1);
        for (long step : steps()) {
            if (step < oldestKept) {
                deleteTree(stepDir(step));
            }
        }
    }

    /** Removes {@code dir} and all below it; nothing if it is not there. */
    private static void deleteTree(Path dir) throws IOException {
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(dir)) {
            paths = walk.sorted(Comparator.reverseOrder()).toList();
        } catch (NoSuchFileException gone) {
            return;   // not there, or another rank removed it first
        }
        for (Path p : paths) {
            Files.deleteIfExists(p);
        }
    }

    @Override
    public String toString() {
        return root.toString();
    }
}
