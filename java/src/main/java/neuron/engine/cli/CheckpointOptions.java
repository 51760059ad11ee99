package neuron.engine.cli;

import neuron.engine.backup.Backup;
import neuron.engine.backup.BackupTarget;
import neuron.engine.backup.Companion;
import neuron.engine.checkpoint.CheckpointConfig;
import neuron.engine.checkpoint.CheckpointFiles;
import neuron.engine.checkpoint.UnusablePathException;
import neuron.engine.checkpoint.UsageException;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The checkpoint flags miners and validators share; the default file name is the role's. */
final class CheckpointOptions {
    @Option(names = "--checkpoint_path", paramLabel = "FILE",
            description = "checkpoint file (default: miner_checkpoint.pth / validator_checkpoint.pth in the working directory)")
    Path checkpointPath;

    @Option(names = "--checkpoint_interval", paramLabel = "N", defaultValue = "500",
            description = "checkpoint every N steps (miner) or blocks (validator) (default: ${DEFAULT-VALUE})")
    long checkpointInterval;

    @Option(names = "--keep_backups", paramLabel = "N", defaultValue = "2",
            description = "previous checkpoints kept as FILE.1 .. FILE.N (default: ${DEFAULT-VALUE})")
    int keepBackups;

    @Option(names = "--staging_dir", paramLabel = "DIR",
            description = "staging queue directory (default: on /dev/shm when the machine has it)")
    Path stagingDir;

    @Option(names = "--start_fresh_if_diverged",
            description = "when every checkpoint holds NaN or infinities (a run that diverged), move them aside and "
                    + "start at step 0 instead of refusing to start (default: refuse, exit 2)")
    boolean startFreshIfDiverged;

    @Option(names = "--metrics_port", paramLabel = "PORT",
            description = "serve Prometheus metrics on this port (default: none)")
    Integer metricsPort;

    @Option(names = "--metrics_csv", paramLabel = "FILE",
            description = "append the figures a plot needs as CSV rows: step,loss (miner) or block,uid,score,weight "
                    + "(validator) (default: none)")
    Path metricsCsv;

    @Option(names = "--backup", paramLabel = "s3://BUCKET/PREFIX",
            description = "also upload every checkpoint to S3-compatible storage, and resume from there when no local "
                    + "checkpoint is valid; credentials from the AWS environment or profile (default: no backup)")
    String backup;

    @Option(names = "--backup_endpoint", paramLabel = "URL",
            description = "the S3-compatible endpoint of --backup (R2, MinIO, ...; default: AWS S3)")
    String backupEndpoint;

    @Option(names = "--backup_wait", paramLabel = "SECONDS", defaultValue = "120",
            description = "how long a graceful stop waits for the last upload (default: ${DEFAULT-VALUE})")
    long backupWaitSeconds;

    /** The backup of {@code config}'s checkpoints and {@code companions}, or null without {@code --backup}. */
    Backup backup(CheckpointConfig config, String progressKey, List<Companion> companions) throws UnusablePathException {
        if (backup == null) {
            if (backupEndpoint != null) {
                throw new UsageException("--backup_endpoint needs --backup s3://BUCKET/PREFIX");
            }
            return null;
        }
        if (backupWaitSeconds < 0) {
            throw new UsageException("--backup_wait must be 0 or more seconds, got " + backupWaitSeconds);
        }
        return Backup.create(BackupTarget.parse(backup, backupEndpoint), config, progressKey, companions);
    }

    CheckpointConfig config(String defaultFile) {
        if (checkpointInterval <= 0) {
            throw new UsageException("--checkpoint_interval must be a positive number, got " + checkpointInterval);
        }
        CheckpointFiles.checkKeepBackups(keepBackups);
        if (metricsPort != null && (metricsPort < 1 || metricsPort > 65535)) {
            throw new UsageException("--metrics_port must be 1..65535, got " + metricsPort);
        }
        if (metricsCsv != null && !Files.isWritable(metricsCsv.toAbsolutePath().getParent())) {
            throw new UsageException("--metrics_csv " + metricsCsv + ": its directory is not writable");
        }
        return new CheckpointConfig(checkpointPath != null ? checkpointPath : Path.of(defaultFile), keepBackups,
                stagingDir).withFreshIfDiverged(startFreshIfDiverged);
    }
}
