package neuron.engine.backup;

import neuron.engine.checkpoint.CheckpointConfig;
import neuron.engine.checkpoint.CheckpointFallback;
import neuron.engine.checkpoint.CheckpointListener;
import neuron.engine.checkpoint.Failures;
import neuron.engine.checkpoint.UnusablePathException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Checkpoints backed up to S3-compatible object storage. As a {@link CheckpointListener} it hands each persisted
 * checkpoint to the uploader agent (the writer thread only opens the file); as a {@link CheckpointFallback} it
 * lets start-up resume from the store when no local checkpoint is valid.
 *
 * <p>Layout under the prefix: {@code versions/<progress>/<checkpoint file>} and the companions' files, then
 * {@code versions/<progress>/manifest.json} (every file with its length and SHA-256; a version without one is
 * never used), then {@code latest} (the newest complete version). A sharded checkpoint fits the same order: its
 * shard files and shard manifest are entries of one version, uploaded before the version's manifest.
 */
public final class Backup implements CheckpointListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Backup.class);

    private final ObjectStore store;
    private final CheckpointConfig config;
    private final String progressKey;
    private final List<Companion> companions;
    private final RemoteRestore restore;
    private volatile Uploader uploader;
    private AgentRunner runner;

    private Backup(ObjectStore store, CheckpointConfig config, String progressKey, List<Companion> companions) {
        this.store = store;
        this.config = config;
        this.progressKey = progressKey;
        this.companions = List.copyOf(companions);
        this.restore = new RemoteRestore(store, progressKey, config.files(), this.companions);
    }

    /**
     * A backup of the checkpoints of {@code config} (ordered by {@code progressKey}) and of {@code companions} to
     * {@code target}, checked at once with one request: a store that refuses the credentials (or has no such
     * bucket) stops start-up with one line ({@link UnusablePathException}); an unreachable one is only logged,
     * uploads retry in the background. The store keeps the newest {@code config.keepBackups() + 1} versions,
     * like the local files.
     */
    public static Backup create(BackupTarget target, CheckpointConfig config, String progressKey,
                                List<Companion> companions) throws UnusablePathException {
        ObjectStore store = ObjectStore.connect(target);
        try {
            store.checkAccess();
            LOG.info("backup: checkpoints also go to {}", store.target());
        } catch (UnusablePathException refused) {
            store.close();
            throw refused;
        } catch (IOException unreachable) {
            LOG.warn("{}; uploads retry in the background", Failures.oneLine(unreachable));
        }
        return new Backup(store, config, progressKey, companions);
    }

    /** Starts the uploader agent, which reports to {@code listener}. */
    public void start(BackupListener listener) {
        uploader = new Uploader(store, progressKey, config.keepBackups() + 1, companions, config.path(), listener);
        runner = new AgentRunner(uploader, uploader::onError);
        runner.start();
    }

    /** Start-up's fallback: the store's versions, newest first. */
    public CheckpointFallback fallback() {
        return restore;
    }

    @Override
    public void persisted(long step, Path path, long bytes, long persistNanos) {
        if (uploader == null) {
            return;
        }
        try {
            uploader.offer(Uploader.Job.open(step, path));
            runner.wake();
        } catch (IOException e) {
            LOG.warn("backup of {} skipped: cannot open it: {}", path, Failures.oneLine(e));
        }
    }

    /**
     * For a graceful stop: waits up to {@code timeout} until every checkpoint handed over is uploaded; returns
     * whether they are, and says so either way.
     */
    public boolean finish(Duration timeout) throws InterruptedException {
        uploader.retryNow();
        runner.wake();
        if (uploader.awaitIdle(timeout)) {
            LOG.info("backup: every checkpoint is uploaded to {}", store.target());
            return true;
        }
        LOG.warn("backup: gave up after {} s waiting for the upload of {} to {}; the local checkpoint is intact and "
                + "the next start uploads it", timeout.toSeconds(), uploader.pendingProgress(), store.target());
        return false;
    }

    @Override
    public void close() throws InterruptedException {
        if (runner != null) {
            runner.stop(Duration.ofSeconds(1));
            uploader.release();
        }
        store.close();
    }
}
