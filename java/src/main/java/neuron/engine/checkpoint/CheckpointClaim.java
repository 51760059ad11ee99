package neuron.engine.checkpoint;

import neuron.engine.staging.PrivateDirectory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a checkpointer takes before any work: the checkpoint's paths and the staging directory, checked and held
 * for this process alone. Either is refused with one line ({@link UnusablePathException}, exit status 2) and
 * left untouched when it cannot be used: a directory that cannot be written, anything but a regular file at the
 * checkpoint's own paths or in the staging directory, or another process holding it. Each is held by a
 * {@link ProcessLock} until {@link #close()}, or until the process ends.
 */
public final class CheckpointClaim implements AutoCloseable {
    /** The staging directory's lock file, beside the queue's files. */
    static final String STAGING_LOCK = "neuron.lock";

    private final ProcessLock checkpoint;
    private final Path stagingDir;
    private ProcessLock staging;

    private CheckpointClaim(ProcessLock checkpoint, Path stagingDir, ProcessLock staging) {
        this.checkpoint = checkpoint;
        this.stagingDir = stagingDir;
        this.staging = staging;
    }

    static CheckpointClaim take(CheckpointFiles files, Path stagingDir) throws UnusablePathException {
        files.checkWritable();
        ProcessLock checkpoint = ProcessLock.acquire(files.lock(), "checkpoint " + files.path(),
                "stop it, or give this one another --checkpoint_path");
        try {
            ProcessLock staging = lockStaging(stagingDir);
            try {
                checkStagingEntries(stagingDir);
                return new CheckpointClaim(checkpoint, stagingDir, staging);
            } catch (UnusablePathException | RuntimeException e) {
                staging.close();
                throw e;
            }
        } catch (UnusablePathException | RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    /**
     * Removes what an earlier process left at {@code files}' checkpoint and temporary file and in
     * {@code stagingDir} (staged snapshots), for a pipeline whose leftovers are of no use to the next run, such as
     * a rank of a data-parallel group, whose steps complete only within one run of the group. Done under the
     * claim: a process still using them is refused, not robbed. The lock files stay.
     */
    public static void clearLeftovers(CheckpointFiles files, Path stagingDir) throws IOException {
        try (CheckpointClaim claim = take(files, stagingDir); Stream<Path> staged = Files.list(stagingDir)) {
            for (Path entry : staged.toList()) {
                if (!entry.getFileName().toString().equals(STAGING_LOCK)) {
                    Files.delete(entry);
                }
            }
            Files.deleteIfExists(files.temporary());
            Files.deleteIfExists(files.path());
        }
    }

    /** Creates the staging directory if missing, checks it can be written and is private, and locks it. */
    private static ProcessLock lockStaging(Path stagingDir) throws UnusablePathException {
        CheckpointFiles.checkWritableDirectory(stagingDir, "staging directory");
        try {
            PrivateDirectory.require(stagingDir, "staging directory");
        } catch (IOException e) {
            throw new UnusablePathException(Failures.oneLine(e));
        }
        return ProcessLock.acquire(stagingDir.resolve(STAGING_LOCK), "staging directory " + stagingDir,
                "stop it, or give this one another --staging_dir");
    }

    /**
     * After the staging directory was deleted while running: creates it again and locks it anew (the lock held
     * is on a file that no longer has a name, which a second process would not see).
     */
    void retakeStaging() throws UnusablePathException {
        staging.close();
        staging = lockStaging(stagingDir);
    }

    /** The queue keeps only regular files in its directory; anything else there is not the engine's. */
    private static void checkStagingEntries(Path dir) throws UnusablePathException {
        List<Path> entries;
        try (Stream<Path> list = Files.list(dir)) {
            entries = list.sorted().toList();
        } catch (IOException e) {
            throw new UnusablePathException("cannot list staging directory " + dir + ": " + Failures.oneLine(e));
        }
        for (Path entry : entries) {
            FileKind kind = CheckpointFiles.kindOf(entry);
            if (kind != FileKind.REGULAR && kind != FileKind.ABSENT) {
                throw new UnusablePathException(kind.describe(entry) + " in the staging directory, which holds "
                        + "only the engine's own files; it is left alone: move it away or give another "
                        + "--staging_dir");
            }
        }
    }

    @Override
    public void close() {
        staging.close();
        checkpoint.close();
    }
}
