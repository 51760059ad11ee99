package neuron.engine.checkpoint;

import neuron.engine.pth.PthReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the checkpoint to resume from, on start-up, before the first step: the checkpoint file, else the newest
 * backup that loads. A file that fails to load (truncated, corrupted, hostile) is moved aside as
 * {@code .corrupt}, never deleted, and the log says so loudly.
 */
public final class CheckpointLoader {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointLoader.class);

    private CheckpointLoader() {
    }

    /** A loaded checkpoint: its tree with CPU tensor leaves, where it came from, and its progress value. */
    public record Loaded(Path source, Map<?, ?> tree, long progress) {
    }

    /** Loads the newest valid checkpoint among {@code files}; empty (and logged) when there is none. */
    public static Optional<Loaded> loadNewestValid(CheckpointFiles files, String progressKey) throws IOException {
        return loadNewestValid(files, progressKey, CheckpointFallback.NONE);
    }

    /**
     * As {@link #loadNewestValid(CheckpointFiles, String)}, and when no local file loads, the candidates of
     * {@code fallback}, newest first, each fetched into the checkpoint's path and treated like a local file.
     */
    public static Optional<Loaded> loadNewestValid(CheckpointFiles files, String progressKey,
                                                   CheckpointFallback fallback) throws IOException {
        List<Path> local = files.candidates();
        for (Path candidate : local) {
            Optional<Loaded> loaded = tryLoad(files, candidate, progressKey, candidate.toString());
            if (loaded.isPresent()) {
                return loaded;
            }
        }
        if (!local.isEmpty()) {
            LOG.error("NO VALID CHECKPOINT at {} or its backups (the bad files were kept)", files.path());
        }
        for (Optional<String> origin = fallback.fetchNext(files.path()); origin.isPresent();
             origin = fallback.fetchNext(files.path())) {
            Optional<Loaded> loaded = tryLoad(files, files.path(), progressKey,
                    files.path() + " (fetched from " + origin.get() + ")");
            if (loaded.isPresent()) {
                fallback.accepted();
                return loaded;
            }
        }
        LOG.info("{} at {}: starting fresh", local.isEmpty() ? "no checkpoint" : "no valid checkpoint", files.path());
        return Optional.empty();
    }

    /** Loads {@code candidate}; a file that fails is moved aside, loudly, and empty returned. */
    private static Optional<Loaded> tryLoad(CheckpointFiles files, Path candidate, String progressKey, String origin) {
        try {
            Loaded loaded = load(candidate, progressKey);
            LOG.info("resuming from checkpoint {}: {} {}", origin, progressKey, loaded.progress());
            return Optional.of(loaded);
        } catch (IOException | RuntimeException e) {
            String reason = Failures.oneLine(e);
            try {
                Path aside = files.moveAside(candidate);
                LOG.error("CHECKPOINT {} CANNOT BE LOADED ({}); moved aside to {}", origin, reason, aside);
            } catch (IOException moveFailed) {
                LOG.error("CHECKPOINT {} CANNOT BE LOADED ({}) and cannot be moved aside: {}", origin,
                        reason, Failures.oneLine(moveFailed));
            }
            return Optional.empty();
        }
    }

    /** Reads, verifies (every CRC-32) and materialises one checkpoint file. */
    public static Loaded load(Path file, String progressKey) throws IOException {
        try (PthReader reader = PthReader.open(file)) {
            reader.verify();
            if (!(reader.root() instanceof Map<?, ?> root)) {
                throw new IOException(file + ": the checkpoint is not a dict");
            }
            long progress = progressOf(file, root, progressKey);
            Map<?, ?> tree = (Map<?, ?>) TensorTrees.materialize(root, reader);
            return new Loaded(file, tree, progress);
        }
    }

    /**
     * The progress value of a valid checkpoint file (every CRC checked) without materialising its tensors; -1 if
     * it has none, is unreadable or damaged: a damaged file must not hide the snapshots newer than its backup.
     */
    public static long peekProgress(Path file, String progressKey) {
        return peekProgress(file, progressKey, true);
    }

    /** As {@link #peekProgress(Path, String)}; {@code verify} false skips the CRCs (housekeeping, not recovery). */
    public static long peekProgress(Path file, String progressKey, boolean verify) {
        try (PthReader reader = PthReader.open(file)) {
            if (verify) {
                reader.verify();
            }
            return reader.root() instanceof Map<?, ?> root ? progressOf(file, root, progressKey) : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static long progressOf(Path file, Map<?, ?> root, String key) throws IOException {
        if (!(root.get(key) instanceof Number n)) {
            throw new IOException(file + ": the checkpoint has no integer '" + key + "'");
        }
        return n.longValue();
    }
}
