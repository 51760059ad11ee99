package neuron.engine.checkpoint;

import neuron.engine.nativeio.NativeFile;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The files of one checkpoint on disk: {@code name.pth} (the newest), {@code name.pth.1 .. .N} (backups, newest
 * first), {@code name.pth.tmp} (a persist in progress, never trusted) and {@code name.pth.corrupt*} (files that
 * failed to load, kept as evidence).
 */
public final class CheckpointFiles {
    private final Path path;
    private final Path dir;
    private final int keepBackups;

    public CheckpointFiles(Path path, int keepBackups) {
        if (keepBackups < 0) {
            throw new IllegalArgumentException("keep_backups must be >= 0, got " + keepBackups);
        }
        this.path = path.toAbsolutePath().normalize();
        this.dir = this.path.getParent();
        this.keepBackups = keepBackups;
    }

    public Path path() {
        return path;
    }

    public Path directory() {
        return dir;
    }

    public Path temporary() {
        return path.resolveSibling(path.getFileName() + ".tmp");
    }

    public Path backup(int generation) {
        return path.resolveSibling(path.getFileName() + "." + generation);
    }

    /**
     * Checks, before any training, that checkpoints can be written here: the directory exists (it is created
     * if missing) and a file can be created in it.
     */
    public void checkWritable() throws UnusablePathException {
        if (Files.isDirectory(path)) {
            throw new UnusablePathException("checkpoint path " + path + " is a directory; give a file name");
        }
        checkWritableDirectory(dir, "checkpoint directory");
    }

    /** Creates {@code dir} if missing and checks a file can be created in it; {@code what} names it in the error. */
    public static void checkWritableDirectory(Path dir, String what) throws UnusablePathException {
        try {
            Files.createDirectories(dir);
        } catch (FileAlreadyExistsException e) {
            throw new UnusablePathException(what + " " + dir + " is not a directory");
        } catch (IOException e) {
            throw new UnusablePathException("cannot create " + what + " " + dir + ": " + reason(e));
        }
        Path probe = dir.resolve(".neuron-write-probe-" + ProcessHandle.current().pid());
        try {
            Files.deleteIfExists(probe);
            Files.createFile(probe);
            Files.delete(probe);
        } catch (IOException e) {
            throw new UnusablePathException(what + " " + dir + " is not writable: " + reason(e));
        }
    }

    /**
     * Makes a fully written and fsynced {@link #temporary()} the checkpoint, atomically: the current checkpoint
     * becomes backup 1 (older backups shift, the oldest beyond {@code keepBackups} goes), then the temporary
     * file is renamed over the checkpoint and the directory is fsynced. At every moment the newest good file is
     * either the checkpoint or backup 1.
     */
    public void install() throws IOException {
        if (Files.exists(path)) {
            if (keepBackups > 0) {
                Files.deleteIfExists(backup(keepBackups));
                for (int g = keepBackups - 1; g >= 1; g--) {
                    if (Files.exists(backup(g))) {
                        Files.move(backup(g), backup(g + 1), StandardCopyOption.ATOMIC_MOVE);
                    }
                }
                keepAsBackup();
            }
        }
        try {
            Files.move(temporary(), path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + temporary() + " over " + path + " atomically", e);
        }
        NativeFile.fsyncDirectory(dir);
    }

    /**
     * Makes the current checkpoint backup 1. A hard link keeps it in place until the rename replaces it; where
     * the file system has no hard links, it is renamed, and for a moment backup 1 is the newest file.
     */
    private void keepAsBackup() throws IOException {
        try {
            Files.createLink(backup(1), path);
        } catch (UnsupportedOperationException | java.nio.file.FileSystemException noLinks) {
            Files.move(path, backup(1), StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** The files to try on start-up, newest first: the checkpoint, then its backups. */
    public List<Path> candidates() {
        List<Path> out = new ArrayList<>();
        if (Files.isRegularFile(path)) {
            out.add(path);
        }
        for (int g = 1; g <= Math.max(keepBackups, 1) + 8; g++) {
            if (Files.isRegularFile(backup(g))) {
                out.add(backup(g));
            }
        }
        return out;
    }

    /** Moves a file that failed to load aside as {@code <file>.corrupt} (never over earlier evidence). */
    public Path moveAside(Path file) throws IOException {
        Path target = file.resolveSibling(file.getFileName() + ".corrupt");
        for (int i = 1; Files.exists(target); i++) {
            target = file.resolveSibling(file.getFileName() + ".corrupt." + i);
        }
        Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
        return target;
    }

    /** Removes a persist that did not finish. */
    public void discardTemporary() {
        try {
            Files.deleteIfExists(temporary());
        } catch (IOException ignored) {
            // the next persist truncates it anyway
        }
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
