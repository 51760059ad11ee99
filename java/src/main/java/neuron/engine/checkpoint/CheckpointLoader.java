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

    /**
     * Builds a loop's state (or anything else) from an open checkpoint; a failure means the file is unusable, except
     * a {@link CheckpointMismatchException}: the file is sound but does not fit, and is left where it is.
     */
    @FunctionalInterface
    public interface Restorer<T> {
        T restore(StoredCheckpoint checkpoint) throws IOException;
    }

    /**
     * Restores from the newest valid checkpoint among {@code files}: the checkpoint file, else the newest backup
     * that loads. Empty (and logged) when there is none.
     *
     * @throws CheckpointMismatchException the restorer found that the newest readable file does not fit
     */
    public static <T> Optional<T> loadNewestValid(CheckpointFiles files, String progressKey, Restorer<T> restorer)
            throws CheckpointMismatchException {
        boolean sawAny = false;
        for (Path candidate : files.candidates()) {
            sawAny = true;
            try {
                T restored = load(candidate, progressKey, restorer);
                LOG.info("resumed from checkpoint {}", candidate);
                return Optional.of(restored);
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

    /** Opens one checkpoint file, verifies it (every CRC-32) and hands it to {@code restorer}. */
    public static <T> T load(Path file, String progressKey, Restorer<T> restorer) throws IOException {
        try (PthReader reader = PthReader.open(file)) {
            reader.verify();
            if (!(reader.root() instanceof Map<?, ?> root)) {
                throw new IOException(file + ": the checkpoint is not a dict");
            }
            return restorer.restore(new StoredCheckpoint(reader, root, progressOf(root, progressKey)));
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
     * The checkpoint's progress value; -1 when it has none (a file another tool wrote can lack it, as a validator
     * checkpoint of the reference system lacks 'block'): a readable file is never damaged for that, and the role
     * that restores it decides whether it fits.
     */
    private static long progressOf(Map<?, ?> root, String key) {
        return root.get(key) instanceof Number n ? n.longValue() : -1;
    }
}
