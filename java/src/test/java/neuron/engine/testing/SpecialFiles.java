package neuron.engine.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Special files where a test wants them, made with {@code mkfifo} and {@code mknod} in the test's own directory;
 * the system's devices are never touched (a character device is made anew, with /dev/null's numbers 1:3).
 */
public final class SpecialFiles {
    private SpecialFiles() {
    }

    public static Path fifo(Path at) throws IOException, InterruptedException {
        make(at, "mkfifo", at.toString());
        return at;
    }

    /** A character device node like /dev/null (reads give nothing, writes vanish); needs root. */
    public static Path nullDevice(Path at) throws IOException, InterruptedException {
        make(at, "mknod", at.toString(), "c", "1", "3");
        return at;
    }

    /** A directory with a file in it, so nothing can remove it with a plain rmdir or rename over it. */
    public static Path nonEmptyDirectory(Path at) throws IOException {
        Files.createDirectories(at);
        Files.writeString(at.resolve("keep.txt"), "not a checkpoint");
        return at;
    }

    /** Makes something at a path (a FIFO, a link), for {@link #replace}. */
    public interface Maker {
        void make() throws Exception;
    }

    /**
     * Replaces what stands at {@code at} with what {@code maker} makes there: a swap another user makes, for a
     * test hook between an engine's check of a path and its open. Unchecked, since hooks cannot throw.
     */
    public static void replace(Path at, Maker maker) {
        try {
            Files.deleteIfExists(at);
            maker.make();
        } catch (Exception e) {
            throw new IllegalStateException("cannot replace " + at + ": " + e.getMessage(), e);
        }
    }

    /** The file's type and device numbers, as {@code stat} prints them: to show a special file was left alone. */
    public static String identity(Path p) throws IOException, InterruptedException {
        Process stat = new ProcessBuilder("stat", "-c", "%F %t:%T %i", p.toString()).redirectErrorStream(true).start();
        String out = new String(stat.getInputStream().readAllBytes()).trim();
        stat.waitFor(30, TimeUnit.SECONDS);
        return out;
    }

    private static void make(Path at, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        boolean ok = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 && Files.exists(at,
                java.nio.file.LinkOption.NOFOLLOW_LINKS);
        Required.tool(ok, String.join(" ", command) + " failed (" + out + ")");
    }
}
