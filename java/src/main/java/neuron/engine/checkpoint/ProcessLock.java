package neuron.engine.checkpoint;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An advisory lock ({@code fcntl(2)}, through {@link FileChannel#tryLock()}) on a lock file, held while this
 * process uses a checkpoint or a staging directory. The kernel releases it when the process ends, however it
 * ends, so a SIGKILL never leaves a stale lock. The file stays: deleting it would let two processes lock two
 * different files of one name.
 */
final class ProcessLock implements AutoCloseable {
    private static final Path PROC_LOCKS = Path.of("/proc/locks");
    /**
     * The lock files this JVM holds. A process's fcntl locks are its own to take again, and closing any channel
     * on the file would drop them, so a second taker in this JVM is refused here, before it opens the file.
     */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path key;
    private final FileChannel channel;
    private final FileLock lock;

    private ProcessLock(Path key, FileChannel channel, FileLock lock) {
        this.key = key;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock in {@code file} (created if missing) for this process, or refuses in one line naming the
     * holder's PID.
     *
     * @param what   what the lock stands for, e.g. "checkpoint /x/m.pth"
     * @param remedy what the user can do, e.g. "give this one another --checkpoint_path"
     */
    static ProcessLock acquire(Path file, String what, String remedy) throws UnusablePathException {
        Path key;
        FileKind kind;
        try {
            key = file.getParent().toRealPath().resolve(file.getFileName());
            kind = FileKind.of(file);
        } catch (IOException e) {
            throw new UnusablePathException("cannot lock " + file + ": " + Failures.oneLine(e));
        }
        if (!kind.absentOrRegular()) {
            throw new UnusablePathException(kind.describe(file) + ", where the lock of " + what
                    + " goes; it is left alone: move it away");
        }
        if (!HELD.add(key)) {
            throw new UnusablePathException(what + " is in use by this process (PID " + ProcessHandle.current().pid()
                    + ") already; " + remedy);
        }
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS);
            FileLock lock = channel.tryLock();
            if (lock != null) {
                return new ProcessLock(key, channel, lock);
            }
        } catch (IOException e) {
            HELD.remove(key);
            closeQuietly(channel);
            throw new UnusablePathException("cannot lock " + file + ": " + Failures.oneLine(e));
        }
        HELD.remove(key);
        closeQuietly(channel);
        long pid = holder(file);
        throw new UnusablePathException(what + " is in use by " + (pid > 0 ? "process " + pid : "another process")
                + " (it holds the lock on " + file + "); " + remedy);
    }

    /** Releases the lock; the kernel would at exit anyway. */
    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // the close below releases it as well
        }
        closeQuietly(channel);
        HELD.remove(key);
    }

    /**
     * The PID that holds a lock on {@code file}, as the kernel lists it in {@code /proc/locks} (by device and
     * inode, {@code MAJOR:MINOR:INODE}); -1 if it cannot be told.
     */
    static long holder(Path file) {
        try {
            long dev = (Long) Files.getAttribute(file, "unix:dev", LinkOption.NOFOLLOW_LINKS);
            long ino = (Long) Files.getAttribute(file, "unix:ino", LinkOption.NOFOLLOW_LINKS);
            long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
            long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
            String id = String.format(Locale.ROOT, "%02x:%02x:%d", major, minor, ino);
            List<String> lines = Files.readAllLines(PROC_LOCKS);
            for (String line : lines) {
                // "1: POSIX  ADVISORY  WRITE 4242 fe:00:2154505 0 EOF"; "1: -> POSIX ..." lines are waiters
                String[] f = line.trim().split("\\s+");
                if (f.length >= 6 && !"->".equals(f[1]) && id.equals(f[5])) {
                    return Long.parseLong(f[4]);
                }
            }
        } catch (IOException | RuntimeException unknown) {
            // no /proc/locks, or no unix attributes: the message says "another process"
        }
        return -1;
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing was written through it
            }
        }
    }
}
