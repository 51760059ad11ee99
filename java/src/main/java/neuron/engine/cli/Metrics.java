package neuron.engine.cli;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import neuron.engine.backup.BackupListener;
import neuron.engine.checkpoint.CheckpointListener;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The Prometheus figures of one miner or validator, served on {@code --metrics_port} when given; the step, loss
 * and scores also go to {@code --metrics_csv} when given.
 */
public final class Metrics implements CheckpointListener, BackupListener, AutoCloseable {
    private static final double[] PAUSE_BOUNDS = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
    private static final double[] PERSIST_BOUNDS = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter checkpoints = Counter.builder().name("neuron_checkpoints_persisted_total")
            .help("checkpoints persisted").register(registry);
    private final Counter failures = Counter.builder().name("neuron_checkpoint_failures_total")
            .help("checkpoint persists that failed").register(registry);
    private final Counter skipped = Counter.builder().name("neuron_checkpoint_snapshots_skipped_total")
            .help("checkpoint triggers that took no snapshot").register(registry);
    private final Counter errors = Counter.builder().name("neuron_checkpoint_errors_total")
            .help("failures of the checkpoint copier or writer outside a persist").register(registry);
    private final Counter bytesWritten = Counter.builder().name("neuron_checkpoint_bytes_written_total")
            .help("bytes of checkpoint files written").register(registry);
    private final Histogram pause = Histogram.builder().name("neuron_checkpoint_pause_seconds")
            .help("how long the loop paused for a snapshot").classicOnly().classicUpperBounds(PAUSE_BOUNDS)
            .register(registry);
    private final Histogram persist = Histogram.builder().name("neuron_checkpoint_persist_seconds")
            .help("how long the writer took to persist a snapshot").classicOnly()
            .classicUpperBounds(PERSIST_BOUNDS).register(registry);
    private final Gauge lastCheckpointStep = Gauge.builder().name("neuron_checkpoint_last_step")
            .help("step (miner) or block (validator) of the newest persisted checkpoint").register(registry);
    private final Gauge step = Gauge.builder().name("neuron_global_step").help("global_step").register(registry);
    private final Gauge loss = Gauge.builder().name("neuron_loss").help("training loss of the last step")
            .register(registry);
    private final Gauge tokensPerSecond = Gauge.builder().name("neuron_tokens_per_second")
            .help("training throughput").register(registry);
    private final Gauge utilisation = Gauge.builder().name("neuron_model_flops_utilisation")
            .help("model FLOPs per second over the reference matmul rate (--peak_gflops, or measured at start-up); "
                    + "NaN without one").register(registry);
    private final Gauge block = Gauge.builder().name("neuron_block").help("the newest block processed")
            .register(registry);
    private final Gauge scores = Gauge.builder().name("neuron_score").help("validator score per miner uid")
            .labelNames("uid").register(registry);
    private final Gauge weights = Gauge.builder().name("neuron_weight").help("validator weight per miner uid")
            .labelNames("uid").register(registry);
    private final Gauge heldOutLoss = Gauge.builder().name("neuron_held_out_loss")
            .help("the network's base model's loss on the held-out rows").register(registry);
    private final Counter backups = Counter.builder().name("neuron_backup_uploads_total")
            .help("checkpoint versions uploaded to the backup store").register(registry);
    private final Counter backupFailures = Counter.builder().name("neuron_backup_failures_total")
            .help("backup upload attempts that failed (each is retried)").register(registry);
    private final Counter backupBytes = Counter.builder().name("neuron_backup_bytes_uploaded_total")
            .help("bytes sent to the backup store").register(registry);
    private final Histogram backupSeconds = Histogram.builder().name("neuron_backup_upload_seconds")
            .help("how long a version took to upload").classicOnly().classicUpperBounds(PERSIST_BOUNDS)
            .register(registry);
    private final Gauge lastBackupStep = Gauge.builder().name("neuron_backup_last_step")
            .help("step (miner) or block (validator) of the newest version in the backup store").register(registry);
    private final HTTPServer server;
    private final MetricsCsv csv;

    private Metrics(Integer port, Path csvFile) throws IOException {
        server = port == null ? null : HTTPServer.builder().port(port).registry(registry).buildAndStart();
        csv = csvFile == null ? null : new MetricsCsv(csvFile);
    }

    /** Metrics kept in memory, served over HTTP on {@code port} and appended to {@code csvFile} when not null. */
    public static Metrics start(Integer port, Path csvFile) throws IOException {
        return new Metrics(port, csvFile);
    }

    public void trainingStep(long globalStep, double lastLoss, double tokensPerSec, double mfu) {
        step.set(globalStep);
        loss.set(lastLoss);
        tokensPerSecond.set(tokensPerSec);
        utilisation.set(mfu);
        if (csv != null) {
            csv.trainingStep(globalStep, lastLoss);
        }
    }

    public void validatorState(long currentBlock, long globalStep, Map<Integer, Double> scoreByUid,
                               Map<Integer, Double> weightByUid, double networkLoss) {
        block.set(currentBlock);
        step.set(globalStep);
        scoreByUid.forEach((uid, s) -> scores.labelValues(uid.toString()).set(s));
        weightByUid.forEach((uid, w) -> weights.labelValues(uid.toString()).set(w));
        heldOutLoss.set(networkLoss);
        if (csv != null) {
            csv.validatorState(currentBlock, scoreByUid, weightByUid, networkLoss);
        }
    }

    @Override
    public void snapshotTaken(long atStep, long bytes, long pauseNanos) {
        pause.observe(pauseNanos / 1e9);
    }

    @Override
    public void snapshotSkipped(long atStep, String reason) {
        skipped.inc();
    }

    @Override
    public void persisted(long atStep, Path path, long bytes, long persistNanos) {
        checkpoints.inc();
        bytesWritten.inc(bytes);
        persist.observe(persistNanos / 1e9);
        lastCheckpointStep.set(atStep);
    }

    @Override
    public void persistFailed(long atStep, Throwable cause) {
        failures.inc();
    }

    @Override
    public void checkpointError(Throwable cause) {
        errors.inc();
    }

    @Override
    public void uploaded(long progress, long bytes, long nanos) {
        backups.inc();
        backupBytes.inc(bytes);
        backupSeconds.observe(nanos / 1e9);
        lastBackupStep.set(progress);
    }

    @Override
    public void uploadFailed(long progress, Throwable cause) {
        backupFailures.inc();
    }

    @Override
    public void close() throws IOException {
        if (server != null) {
            server.stop();
        }
        if (csv != null) {
            csv.close();
        }
    }
}
