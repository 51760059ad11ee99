package neuron.engine.cli;

import neuron.engine.backup.Backup;
import neuron.engine.checkpoint.CheckpointListener;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * The life of a long-running command: metrics and the status line around it, and a graceful stop. SIGINT and
 * SIGTERM ask the loop to stop; the JVM exits once the loop has taken and persisted its final checkpoint, or
 * within a bound if the loop is blocked ({@link GracefulStop}).
 */
final class Session {
    private static final long STATUS_LOG_MILLIS = 10_000;

    @FunctionalInterface
    interface Body {
        void run(CheckpointListener listener, Metrics metrics, StatusLine status, BooleanSupplier stop) throws Exception;
    }

    private Session() {
    }

    /** Runs {@code body}; with a {@code backup} (or null), it uploads every checkpoint and the stop waits for it. */
    static int run(CheckpointOptions options, Backup backup, Body body) throws Exception {
        GracefulStop stop = new GracefulStop(Thread.currentThread());
        Thread hook = new Thread(stop::onSignal, "graceful-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try (Metrics metrics = Metrics.start(options.metricsPort, options.metricsCsv); backup) {
            StatusLine status = StatusLine.create(STATUS_LOG_MILLIS);
            CheckpointListener listener = CheckpointListener.both(metrics, status);
            if (backup != null) {
                backup.start(metrics);
                listener = CheckpointListener.both(listener, backup);
            }
            try {
                body.run(listener, metrics, status, stop);
            } finally {
                status.finish();
            }
            if (backup != null) {
                backup.finish(Duration.ofSeconds(options.backupWaitSeconds));
            }
            return Main.EXIT_OK;
        } finally {
            stop.finished();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it was what stopped us
            }
        }
    }
}
