package neuron.engine.checkpoint;

import neuron.engine.pth.Pickled;
import neuron.engine.pth.PthStorage;
import neuron.engine.staging.StagingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListSet;

/**
 * The asynchronous checkpoint pipeline of one loop: loop → snapshot → staging queue → writer → {@code .pth}.
 *
 * <p>The loop calls {@link #afterStep} after each update of its state (an optimizer step, a block); when the
 * {@link CheckpointPolicy} says a checkpoint is due and staging can take it, the state source's storages are
 * copied into the staging queue's mapped memory, and the loop calls {@link #awaitStaging()} right before it next
 * mutates the state: the one place a loop may wait. The writer thread persists the newest committed snapshot
 * while the loop goes on.
 *
 * <p>Hand-off policy: at most one snapshot waits while another is being persisted. A trigger that finds one
 * already waiting, or too little free space in staging, takes no snapshot and says so; the loop never waits
 * for the disk and staging never grows without bound.
 */
public final class Checkpointer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Checkpointer.class);

    private final CheckpointFiles files;
    private final CheckpointPolicy policy;
    private final StagingQueue staging;
    private final CheckpointListener listener;
    private final CheckpointWriter writer;
    private final Thread writerThread;
    private final ConcurrentSkipListSet<Long> unpersisted = new ConcurrentSkipListSet<>();
    private final Object progressLock = new Object();
    private long persistedStep;
    private long failedStep = -1;
    private volatile long stagedStep = -1;
    private volatile long doneSeq = -1;
    private Throwable failure;
    private volatile Throwable writerDeath;
    private final String unit;

    private Checkpointer(CheckpointFiles files, CheckpointPolicy policy, StagingQueue staging, long onDiskStep,
                         String unit, CheckpointListener listener, boolean writeHints) {
        this.files = files;
        this.policy = policy;
        this.unit = unit;
        this.staging = staging;
        this.listener = listener;
        this.persistedStep = onDiskStep;
        this.writer = new CheckpointWriter(staging, files, listener, new WriterProgress(), onDiskStep, unit, writeHints);
        this.writerThread = new Thread(writer, "checkpoint-writer");
        this.writerThread.setDaemon(true);
    }

    /**
     * Checks the checkpoint and staging directories (an {@link UnusablePathException} if unusable), opens the
     * staging queue for states of about {@code stateBytes}, and persists any snapshot a previous process
     * committed but did not persist, if it is newer than the checkpoint on disk, before returning. The policy's
     * next trigger is the first multiple of its interval past the newest checkpoint.
     *
     * @param progressKey the tree key that orders checkpoints: {@code global_step} or {@code block}
     */
    public static Checkpointer open(CheckpointConfig config, CheckpointPolicy policy, long stateBytes,
                                    String progressKey, CheckpointListener listener) throws IOException {
        return open(config, policy, stateBytes, progressKey, listener, true);
    }

    /** As {@link #open(CheckpointConfig, CheckpointPolicy, long, String, CheckpointListener)}; {@code writeHints} for benchmarks. */
    public static Checkpointer open(CheckpointConfig config, CheckpointPolicy policy, long stateBytes,
                                    String progressKey, CheckpointListener listener, boolean writeHints)
            throws IOException {
        CheckpointFiles files = config.files();
        files.checkWritable();
        Path stagingDir = config.resolvedStagingDir(stateBytes);
        CheckpointFiles.checkWritableDirectory(stagingDir, "staging directory");
        long onDisk = CheckpointLoader.peekProgress(files.path(), progressKey);
        String unit = "block".equals(progressKey) ? "block" : "step";
        Checkpointer c = new Checkpointer(files, policy, StagingQueue.open(stagingDir, stateBytes), onDisk, unit,
                listener, writeHints);
        LOG.info("checkpoints: {} (backups {}, every {} {}s), staging in {}", files.path(), config.keepBackups(),
                policy.interval(), unit, stagingDir);
        c.writerThread.start();
        try {
            c.writer.awaitRecovery();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while recovering staged snapshots", e);
        }
        policy.startFrom(c.persistedStep());
        c.staging.prepare();
        return c;
    }

    public Path path() {
        return files.path();
    }

    /** Committed snapshots not yet persisted. */
    public int backlog() {
        return unpersisted.size();
    }

    /**
     * The loop's hook after each update of its state, on the loop's thread: when the policy says a checkpoint is
     * due at {@code progress}, snapshots {@code source} (see {@link #snapshot}). Returns whether it took one.
     * Before the loop next mutates the state it calls {@link #awaitStaging()}.
     */
    public boolean afterStep(long progress, StateSource source) {
        return policy.due(progress) && snapshot(progress, source);
    }

    /**
     * Snapshots {@code source} as the state of {@code step} now, whatever the policy's interval, and hands it to
     * the writer; the source is released once its storages are copied. Returns false if staging could not take
     * it (the reason is logged and reported); the source is released then too.
     */
    public boolean snapshot(long step, StateSource source) {
        if (writerDeath != null) {
            source.release();
            throw new IllegalStateException("the checkpoint writer has stopped: "
                    + Failures.oneLine(writerDeath), writerDeath);
        }
        LOG.info("checkpoint scheduled: {} {}", unit, step);
        long started = System.nanoTime();
        Pickled pickled;
        int[] sourceIndex;
        long[] sizes;
        try {
            pickled = Pickled.of(source.tree());
            sourceIndex = sourceIndices(pickled.storages(), source.storages());
            sizes = pickled.storages().stream().mapToLong(PthStorage::nbytes).toArray();
        } catch (RuntimeException e) {
            source.release();
            throw e;
        }
        long total = 0;
        for (long n : sizes) {
            total += n;
        }
        String refusal = policy.refusal(unpersisted.size(), staging.usableSpace(), total);
        if (refusal != null) {
            source.release();
            return skip(step, refusal);
        }
        long seq;
        try {
            seq = staging.stage(step, pickled.bytes(), sizes,
                    i -> (dst, offset, length) -> source.copy(sourceIndex[i], dst, offset, length));
        } catch (RuntimeException e) {
            return skip(step, "the snapshot failed: " + Failures.oneLine(e));
        } finally {
            source.release();
        }
        long pause = System.nanoTime() - started;
        unpersisted.add(seq);
        if (seq <= doneSeq) {
            unpersisted.remove(seq);   // the writer was quicker than this line
        }
        stagedStep = step;
        LOG.info(String.format(Locale.ROOT, "checkpoint snapshot done: %s %d, %s, pause %.1f ms", unit, step,
                Sizes.human(total), pause / 1e6));
        listener.snapshotTaken(step, total, pause);
        writer.wake();
        return true;
    }

    /**
     * Waits until the storages of the snapshot in progress, if any, are copied: the loop calls it right before
     * it next mutates its state (miner: before the optimizer update; validator: before applying a window).
     */
    public void awaitStaging() {
        // the copy is synchronous: nothing is ever in flight when the loop gets here
    }

    /** For each storage of the pickled tree, its index among the source's storages (matched by identity). */
    private static int[] sourceIndices(List<PthStorage> pickled, List<PthStorage> declared) {
        Map<PthStorage, Integer> index = new IdentityHashMap<>();
        for (int i = 0; i < declared.size(); i++) {
            index.put(declared.get(i), i);
        }
        int[] out = new int[pickled.size()];
        for (int i = 0; i < out.length; i++) {
            Integer at = index.get(pickled.get(i));
            if (at == null) {
                throw new IllegalArgumentException("the state tree refers to a storage its source does not list: "
                        + pickled.get(i));
            }
            out[i] = at;
        }
        return out;
    }

    private boolean skip(long step, String reason) {
        LOG.warn("checkpoint at {} {} skipped: {}; the next trigger tries again", unit, step, reason);
        listener.snapshotSkipped(step, reason);
        return false;
    }

    /**
     * Waits until the checkpoint of {@code step} (or a newer one) is on disk: for a graceful stop. Throws if
     * persisting it failed, or after {@code timeout}.
     */
    public void awaitPersisted(long step, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (progressLock) {
            while (persistedStep < step) {
                if (failedStep >= step) {
                    throw new IOException("the checkpoint of " + unit + " " + step + " was not persisted: "
                            + Failures.oneLine(failure), failure);
                }
                if (writerDeath != null) {
                    throw new IOException("the checkpoint writer has stopped", writerDeath);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IOException("the checkpoint of " + unit + " " + step + " was not persisted within " + timeout);
                }
                progressLock.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    /**
     * For a graceful stop: makes sure the state of {@code step} is on disk. Unlike {@link #snapshot}, it may wait:
     * for the backlog to drain so the snapshot is not skipped, and then for the persist.
     */
    public void checkpointAndWait(long step, StateSource source, Duration timeout)
            throws IOException, InterruptedException {
        awaitStaging();
        if (stagedStep < step && persistedStep() < step) {
            long deadline = System.nanoTime() + timeout.toNanos();
            synchronized (progressLock) {
                while (unpersisted.size() >= CheckpointPolicy.MAX_BACKLOG && writerDeath == null
                        && System.nanoTime() < deadline) {
                    progressLock.wait(100);
                }
            }
            if (!snapshot(step, source)) {
                throw new IOException("the final snapshot of " + unit + " " + step + " could not be taken");
            }
        }
        awaitPersisted(step, timeout);
    }

    /**
     * Waits until every snapshot taken is on disk and the next snapshot's staging memory is ready: the state a
     * loop is in when checkpoints are far apart (benchmarks and tests measure a pause from there).
     */
    public void awaitIdle(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (stagedStep >= 0) {
            awaitPersisted(stagedStep, timeout);
        }
        while (!staging.populated()) {
            if (System.nanoTime() > deadline) {
                throw new IOException("staging was not ready within " + timeout);
            }
            Thread.sleep(5);
        }
    }

    /** The step of the newest checkpoint persisted (or found on disk at start), -1 if none. */
    public long persistedStep() {
        synchronized (progressLock) {
            return persistedStep;
        }
    }

    /**
     * Lets the writer finish what is staged, then stops it; the staging memory is given back unless a committed
     * snapshot could not be persisted.
     */
    @Override
    public void close() throws InterruptedException {
        writer.stop();
        writerThread.join();
        if (persistedStep() >= stagedStep && writerDeath == null) {
            staging.closeAndClear();
        } else {
            // keep what was committed but not persisted: the next start persists it
            staging.close();
        }
    }

    private final class WriterProgress implements CheckpointWriter.Progress {
        @Override
        public void persisted(long seq, long step) {
            doneSeq = Math.max(doneSeq, seq);
            unpersisted.headSet(seq, true).clear();
            synchronized (progressLock) {
                persistedStep = Math.max(persistedStep, step);
                progressLock.notifyAll();
            }
        }

        @Override
        public void failed(long seq, long step, Throwable cause) {
            doneSeq = Math.max(doneSeq, seq);
            unpersisted.headSet(seq, true).clear();
            synchronized (progressLock) {
                failedStep = Math.max(failedStep, step);
                failure = cause;
                progressLock.notifyAll();
            }
        }

        @Override
        public void writerDied(Throwable cause) {
            writerDeath = cause;
            synchronized (progressLock) {
                progressLock.notifyAll();
            }
        }
    }
}
