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
 * {@code .corrupt}, never deleted, and the log says so loudly. A file that reads well but is not this role's
 * checkpoint is refused ({@link CheckpointMismatchException}) and stays where it is.
 */
public final class CheckpointLoader {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointLoader.class);

    private CheckpointLoader() {
    }

    /** A loaded checkpoint: its tree with CPU tensor leaves, where it came from, and its progress value. */
    public record Loaded(Path source, Map<?, ?> tree, long progress) {
    }

    /**
     * Loads the newest valid checkpoint among {@code files}; empty (and logged) when there is none.
     *
     * @throws CheckpointMismatchException the newest readable file is not this role's checkpoint
     */
    public static Optional<Loaded> loadNewestValid(CheckpointFiles files, String progressKey)
            throws CheckpointMismatchException {
        boolean sawAny = false;
        for (Path candidate : files.candidates()) {
            sawAny = true;
            try {
                Loaded loaded = load(candidate, progressKey);
                LOG.info("resuming from checkpoint {}: {} {}", candidate, progressKey, loaded.progress());
                return Optional.of(loaded);
            } catch (CheckpointMismatchException e) {
                throw e;
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
                throw new CheckpointMismatchException(file, "a readable torch.save file, but its value is not a dict, "
                        + "as a checkpoint is; pass the right --checkpoint_path");
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

    private static long progressOf(Path file, Map<?, ?> root, String key) throws CheckpointMismatchException {
        if (!(root.get(key) instanceof Number n)) {
            throw new CheckpointMismatchException(file, "a readable torch.save file, but not this role's checkpoint: it has "
                    + "no integer '" + key + "' (its keys: " + root.keySet() + "); pass the right --checkpoint_path");
        }
        return n.longValue();
    }
}
