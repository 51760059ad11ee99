package neuron.engine.cli;

import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.checkpoint.Sizes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What an operator watches. On a terminal: one live line at the bottom, redrawn in place at most four times a
 * second; log lines scroll above it (standard error is wrapped so each log line first clears the live line, which
 * is drawn again after it). Not on a terminal (a log file, systemd, CI): a plain timestamped log line every
 * {@code logEveryMillis}, with no control characters.
 */
public final class StatusLine implements CheckpointListener {
    private static final Logger LOG = LoggerFactory.getLogger("status");
    private static final long REDRAW_MILLIS = 250;

    private static final String CLEAR_LINE = "\r\033[K";

    private final PrintStream terminal;
    private final long logEveryMillis;
    private volatile String checkpoint = "no checkpoint yet";
    private volatile long lastPause = -1;
    private volatile String current = "";
    private long lastShown;
    /** The newest progress shown or skipped by the redraw limit, for the line the run ends with. */
    private volatile String latestProgress;
    private volatile int latestBacklog;

    private StatusLine(PrintStream terminal, long logEveryMillis) {
        this.terminal = terminal;
        this.logEveryMillis = logEveryMillis;
    }

    /**
     * A live line when standard error is a terminal (it then replaces {@code System.err} with a stream that keeps
     * log lines off the live line), log lines otherwise.
     */
    public static StatusLine create(long logEveryMillis) {
        boolean tty = System.console() != null && !"dumb".equals(System.getenv("TERM"));
        if (!tty) {
            return new StatusLine(null, logEveryMillis);
        }
        PrintStream real = System.err;
        StatusLine status = new StatusLine(real, logEveryMillis);
        System.setErr(new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[]{(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                status.printAbove(b, off, len);
            }
        }, true));
        return status;
    }

    /** Writes log output above the live line: clear it, write, and draw it again once a line is complete. */
    private synchronized void printAbove(byte[] b, int off, int len) {
        terminal.print(CLEAR_LINE);
        terminal.write(b, off, len);
        if (len > 0 && b[off + len - 1] == '\n' && !current.isEmpty()) {
            terminal.print(current + "\033[K");
        }
        terminal.flush();
    }

    /** Shows {@code progress} (e.g. "step 1200 loss 3.21 5,120 tok/s") with the checkpoint figures. */
    public void show(String progress, int stagingBacklog) {
        latestProgress = progress;
        latestBacklog = stagingBacklog;
        long now = System.currentTimeMillis();
        if (now - lastShown < (terminal != null ? REDRAW_MILLIS : logEveryMillis)) {
            return;
        }
        lastShown = now;
        String line = line(progress, stagingBacklog);
        if (terminal != null) {
            synchronized (this) {
                current = line;
                terminal.print("\r" + line + "\033[K");
                terminal.flush();
            }
        } else {
            LOG.info(line);
        }
    }

    /** Ends the live line so the next output starts on a fresh line. */
    public synchronized void finish() {
        if (terminal != null && latestProgress != null) {
            // The last redraw may be older than the last steps and checkpoints: the line ends as the run did.
            terminal.print("\r" + line(latestProgress, latestBacklog) + "\033[K");
            terminal.println();
            current = "";
        }
    }

    private String line(String progress, int stagingBacklog) {
        return progress + " | " + checkpoint + " | staging backlog " + stagingBacklog;
    }

    @Override
    public void snapshotTaken(long step, long bytes, long pauseNanos) {
        lastPause = pauseNanos;
    }

    @Override
    public void persisted(long step, Path path, long bytes, long persistNanos) {
        checkpoint = String.format(Locale.ROOT, "checkpoint @%d %s pause %s persist %.2f s", step, Sizes.human(bytes),
                lastPause < 0 ? "-" : String.format(Locale.ROOT, "%.1f ms", lastPause / 1e6), persistNanos / 1e9);
    }

    @Override
    public void persistFailed(long step, Throwable cause) {
        checkpoint = "checkpoint @" + step + " FAILED: " + cause.getMessage();
    }
}
