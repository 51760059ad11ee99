package neuron.engine.checkpoint;

import neuron.engine.pth.PthFormatException;
import neuron.engine.pth.PthReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
    static final long MAX_PROGRESS = 1L << 40;

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
     * @throws CheckpointMismatchException the newest readable file is not this role's checkpoint, or the restorer
     *                                     found that it does not fit
     */
    public static <T> Optional<T> loadNewestValid(CheckpointFiles files, String progressKey, Restorer<T> restorer)
            throws CheckpointMismatchException {
        boolean sawAny = !files.candidates().isEmpty();
        Optional<T> local = loadLocal(files, progressKey, restorer);
        if (local.isEmpty()) {
            LOG.info("{} at {}: starting fresh", sawAny ? "no valid checkpoint" : "no checkpoint", files.path());
        }
        return local;
    }

    /**
     * As {@link #loadNewestValid(CheckpointFiles, String, Restorer)}, and when no local file loads, the candidates
     * of {@code fallback}, newest first, each fetched into the checkpoint's path and treated like a local file.
     * Throws if the fallback cannot be asked.
     */
    public static <T> Optional<T> loadNewestValid(CheckpointFiles files, String progressKey, Restorer<T> restorer,
                                                  CheckpointFallback fallback) throws IOException {
        if (fallback == CheckpointFallback.NONE) {
            return loadNewestValid(files, progressKey, restorer);
        }
        Optional<T> local = loadLocal(files, progressKey, restorer);
        if (local.isPresent()) {
            return local;
        }
        for (Optional<String> origin = fallback.fetchNext(files.path()); origin.isPresent();
             origin = fallback.fetchNext(files.path())) {
            Optional<T> fetched = tryLoad(files, files.path(), files.path() + " (fetched from " + origin.get() + ")",
                    progressKey, restorer);
            if (fetched.isPresent()) {
                fallback.accepted();
                return fetched;
            }
        }
        LOG.info("no valid checkpoint at {} or in its fallback: starting fresh", files.path());
        return Optional.empty();
    }

    private static <T> Optional<T> loadLocal(CheckpointFiles files, String progressKey, Restorer<T> restorer)
            throws CheckpointMismatchException {
        List<Path> candidates = files.candidates();
        for (Path candidate : candidates) {
            Optional<T> restored = tryLoad(files, candidate, candidate.toString(), progressKey, restorer);
            if (restored.isPresent()) {
                return restored;
            }
        }
        if (!candidates.isEmpty()) {
            LOG.error("NO VALID CHECKPOINT at {} or its backups (the bad files were kept)", files.path());
        }
        return Optional.empty();
    }

    /**
     * Restores from {@code candidate}; a damaged file is moved aside, loudly, and empty returned; a readable one
     * that does not fit is left where it is and the mismatch thrown.
     */
    private static <T> Optional<T> tryLoad(CheckpointFiles files, Path candidate, String origin, String progressKey,
                                           Restorer<T> restorer) throws CheckpointMismatchException {
        try {
            long[] progress = new long[1];
            T restored = load(candidate, progressKey, stored -> {
                progress[0] = stored.progress();
                return restorer.restore(stored);
            });
            LOG.info("resumed from checkpoint {}: {} {}", origin, progressKey, progress[0]);
            return Optional.of(restored);
        } catch (CheckpointMismatchException e) {
            throw e;
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

    /**
     * Opens one checkpoint file and hands it to {@code restorer}; every CRC-32 is checked, the storages' as the
     * restorer reads them ({@link StoredCheckpoint#readInto}) or, for those it did not read, afterwards. A state the
     * restorer built on a file that fails a check then is closed (if {@link AutoCloseable}) before the failure is
     * thrown: what the loader hands out was checked whole.
     */
    public static <T> T load(Path file, String progressKey, Restorer<T> restorer) throws IOException {
        requireRegularFile(file);
        try (PthReader reader = PthReader.open(file)) {
            reader.verify(record -> !record.startsWith("data/"));
            if (!(reader.root() instanceof Map<?, ?> root)) {
                throw new CheckpointMismatchException(file, "a readable torch.save file, but its value is not a dict, "
                        + "as a checkpoint is; pass the right --checkpoint_path");
            }
            StoredCheckpoint stored = new StoredCheckpoint(reader, root, progressOf(file, root, progressKey));
            try {
                T restored = restore(restorer, stored);
                try {
                    stored.finishReads();
                } catch (IOException | RuntimeException damaged) {
                    if (restored instanceof AutoCloseable c) {
                        closeQuietly(c);
                    }
                    throw damaged;
                }
                return restored;
            } finally {
                stored.close();
            }
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
        if (!Files.isRegularFile(file)) {
            return -1;
        }
        try (PthReader reader = PthReader.open(file)) {
            if (verify) {
                reader.verify();
            }
            return reader.root() instanceof Map<?, ?> root ? progressOf(file, root, progressKey) : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Runs the restorer; a damaged file found on the way (tensor readers throw it unchecked) is its IOException. */
    private static <T> T restore(Restorer<T> restorer, StoredCheckpoint stored) throws IOException {
        try {
            return restorer.restore(stored);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /**
     * Opening a FIFO blocks until a writer comes, and a device reads without end: only a regular file (or a link
     * to one) is opened. Asking costs a {@code stat(2)}, which opens nothing.
     */
    private static void requireRegularFile(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(FileKind.of(file).describe(file) + ", not a checkpoint file");
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // the file's damage is what gets reported
        }
    }

    /**
     * The checkpoint's progress value; -1 when it has none (a file another tool wrote can lack it, as a validator
     * checkpoint of the reference system lacks 'block'): a readable file is never damaged for that, and the role
     * that restores it decides whether it fits.
     */
    private static long progressOf(Path file, Map<?, ?> root, String key) throws IOException {
        if (!root.containsKey(key)) {
            return -1;
        }
        if (!(root.get(key) instanceof Number n)) {
            throw new CheckpointMismatchException(file, "a readable torch.save file, but not this role's checkpoint: its '"
                    + key + "' is not an integer (its keys: " + root.keySet() + "); pass the right --checkpoint_path");
        }
        return plausible(file, key, n);
    }

    /**
     * A step or block a run can have reached: 0 to 2^40 (a trillion: 35 years at a thousand steps a second, and
     * Substrate's block numbers are u32). Anything else (negative, 2^62, a fraction) is no value the engine
     * writes: the file is damaged.
     */
    private static long plausible(Path file, String key, Number n) throws PthFormatException {
        boolean integral = n instanceof Long || n instanceof Integer || n instanceof Short || n instanceof Byte
                || (n instanceof BigInteger big && big.bitLength() < Long.SIZE);
        long value = n.longValue();
        if (!integral || value < 0 || value > MAX_PROGRESS) {
            throw new PthFormatException(file, "'" + key + "' is " + n + ", which no run reaches (0 to 2^40): "
                    + "the file is damaged");
        }
        return value;
    }
}
