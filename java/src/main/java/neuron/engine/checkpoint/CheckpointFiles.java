package neuron.engine.checkpoint;

import neuron.engine.nativeio.NativeFile;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
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

    /** The one check of {@code --keep_backups}: 0 or more; returns it. */
    public static int checkKeepBackups(int keepBackups) {
        if (keepBackups < 0) {
            throw new UsageException("--keep_backups must be 0 or more, got " + keepBackups);
        }
        return keepBackups;
    }

    public CheckpointFiles(Path path, int keepBackups) {
        checkKeepBackups(keepBackups);
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

    /** The lock file of the process that uses this checkpoint ({@link ProcessLock}). */
    public Path lock() {
        return path.resolveSibling(path.getFileName() + ".lock");
    }

    /**
     * Checks, before any training, that checkpoints can be written here: the directory exists (it is created
     * if missing), a file can be created in it, and nothing but a regular file (or nothing) stands at the
     * checkpoint's path, its temporary file or its backups: the engine renames and deletes those, and a
     * special file there (a device, a FIFO, a directory, a link) is refused and left alone.
     */
    public void checkWritable() throws UnusablePathException {
        if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            throw new UnusablePathException("checkpoint path " + path + " is a directory; give a file name");
        }
        checkWritableDirectory(dir, "checkpoint directory");
        List<Path> own = new ArrayList<>(List.of(path, temporary()));
        for (int g = 1; g <= keepBackups; g++) {
            own.add(backup(g));
        }
        for (Path p : own) {
            FileKind kind = kindOf(p);
            if (!kind.absentOrRegular()) {
                throw new UnusablePathException(kind.describe(p) + ", not a checkpoint file; it is left alone: "
                        + "move it away or give another --checkpoint_path");
            }
        }
    }

    /** What {@code p} is; unreadable attributes make the path unusable. */
    static FileKind kindOf(Path p) throws UnusablePathException {
        try {
            return FileKind.of(p);
        } catch (IOException e) {
            throw new UnusablePathException("cannot tell what " + p + " is: " + Failures.oneLine(e));
        }
    }

    /** Creates {@code dir} if missing and checks a file can be created in it; {@code what} names it in the error. */
    public static void checkWritableDirectory(Path dir, String what) throws UnusablePathException {
        try {
            Files.createDirectories(dir);
        } catch (FileAlreadyExistsException e) {
            throw new UnusablePathException(what + " " + dir + " is not a directory");
        } catch (IOException e) {
            throw new UnusablePathException("cannot create " + what + " " + dir + ": " + Failures.oneLine(e));
        }
        Path probe = dir.resolve(".neuron-write-probe-" + ProcessHandle.current().pid());
        try {
            Files.deleteIfExists(probe);
            Files.createFile(probe);
            Files.delete(probe);
        } catch (IOException e) {
            throw new UnusablePathException(what + " " + dir + " is not writable: " + Failures.oneLine(e));
        }
    }

    /**
     * Makes a fully written and fsynced {@link #temporary()} the checkpoint, atomically: the current checkpoint
     * becomes backup 1 (older backups shift, the oldest beyond {@code keepBackups} goes), then the temporary
     * file is renamed over the checkpoint and the directory is fsynced. At every moment the newest good file is
     * either the checkpoint or backup 1. Nothing but regular files is ever renamed or deleted: if something else
     * stands at the checkpoint's path or a backup's, the install is refused with the cause and nothing moves.
     */
    public void install() throws IOException {
        String refused = "this checkpoint is not installed";
        requireRegular(temporary(), false, refused);
        requireRegular(path, true, refused);
        for (int g = 1; g <= keepBackups; g++) {
            requireRegular(backup(g), true, refused);
        }
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
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

    /**
     * Refuses to go on if {@code p} is anything but a regular file (or, where {@code mayBeAbsent}, nothing);
     * {@code consequence} says what does not happen then.
     */
    private static void requireRegular(Path p, boolean mayBeAbsent, String consequence) throws IOException {
        FileKind kind = FileKind.of(p);
        if (kind == FileKind.REGULAR || (mayBeAbsent && kind == FileKind.ABSENT)) {
            return;
        }
        throw new IOException(kind.describe(p) + ", not a checkpoint file; " + consequence
                + ", and it is left alone: move it away");
    }

    /**
     * What stands on disk now, for a line saying a persist failed: "the previous checkpoint P is intact", or what
     * is at the checkpoint's path instead and which checkpoint file is the newest left.
     */
    public String onDisk() {
        FileKind kind;
        try {
            kind = FileKind.of(path);
        } catch (IOException e) {
            kind = FileKind.OTHER;
        }
        if (kind == FileKind.REGULAR) {
            return "the previous checkpoint " + path + " is intact";
        }
        String newest = candidates().stream().filter(p -> !p.equals(path)).findFirst()
                .map(p -> "the newest checkpoint file is " + p).orElse("no checkpoint file is left");
        return (kind == FileKind.ABSENT ? "there is no file at " + path : kind.describe(path)) + "; " + newest;
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

    /**
     * Moves a file that failed to load aside as {@code <file>.corrupt} (never over earlier evidence); anything but
     * a regular file is left where it is.
     */
    public Path moveAside(Path file) throws IOException {
        requireRegular(file, false, "nothing is moved aside");
        Path target = file.resolveSibling(file.getFileName() + ".corrupt");
        for (int i = 1; Files.exists(target); i++) {
            target = file.resolveSibling(file.getFileName() + ".corrupt." + i);
        }
        Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
        return target;
    }

    /** Removes a persist that did not finish: a regular file, or a link (removing one leaves its target). */
    public void discardTemporary() {
        try {
            NativeFile.removeStale(temporary());
        } catch (IOException ignored) {
            // the next persist removes it before it creates its own
        }
    }
}
