package neuron.engine.checkpoint;

import neuron.engine.pth.PthReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
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
    public static Optional<Loaded> loadNewestValid(CheckpointFiles files, String progressKey) {
        boolean sawAny = false;
        for (Path candidate : files.candidates()) {
            sawAny = true;
            try {
                Loaded loaded = load(candidate, progressKey);
                LOG.info("resuming from checkpoint {}: {} {}", candidate, progressKey, loaded.progress());
                return Optional.of(loaded);
            } catch (IOException | RuntimeException e) {
                String reason = Failures.oneLine(e);
                try {
                    Path aside = files.moveAside(candidate);
                    LOG.error("CHECKPOINT {} CANNOT BE LOADED ({}); moved aside to {}", candidate, reason, aside);
                } catch (IOException moveFailed) {
                    LOG.error("CHECKPOINT {} CANNOT BE LOADED ({}) and cannot be moved aside: {}", candidate,
                            reason, Failures.oneLine(moveFailed));
                }
            }
        }
        if (sawAny) {
            LOG.error("NO VALID CHECKPOINT at {} or its backups: starting fresh (the bad files were kept)",
                    files.path());
        } else {
            LOG.info("no checkpoint at {}: starting fresh", files.path());
        }
        return Optional.empty();
    }

    /** Reads, verifies (every CRC-32) and materialises one checkpoint file. */
    public static Loaded load(Path file, String progressKey) throws IOException {
        try (PthReader reader = PthReader.open(file)) {
            reader.verify();
            if (!(reader.root() instanceof Map<?, ?> root)) {
                throw new IOException(file + ": the checkpoint is not a dict");
            }
            long progress = progressOf(root, progressKey);
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
            return reader.root() instanceof Map<?, ?> root ? progressOf(root, progressKey) : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * The checkpoint's progress value; -1 when it has none (a file another tool wrote can lack it): a readable file
     * is never damaged for that, and the role that loads it decides whether it fits.
     */
    private static long progressOf(Map<?, ?> root, String key) {
        return root.get(key) instanceof Number n ? n.longValue() : -1;
    }
}
