package neuron.engine.checkpoint;

import neuron.engine.pth.PthStorage;
import neuron.engine.staging.StagingQueue;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.locks.LockSupport;

/**
 * The asynchronous checkpoint pipeline of one loop: loop → snapshot → staging queue → writer → {@code .pth}.
 *
 * <p>The loop calls {@link #afterStep} after each update of its state (an optimizer step, a block). When the
 * {@link CheckpointPolicy} says a checkpoint is due and staging has room, the loop's thread captures the state's
 * value tree and hands the snapshot to the copier agent, which copies every storage into the staging queue's
 * mapped memory while the loop runs on (its next forward and backward). The loop calls {@link #awaitStaging()}
 * right before it next mutates the state: the one place a loop may wait, and it waits only if the copy is not
 * done yet. The writer agent persists the newest committed snapshot meanwhile.
 *
 * <p>Hand-off policy: the newest snapshot wins. Staging holds at most three (one being persisted, one waiting,
 * one being copied); a newer commit drops the one waiting, so with a slow disk the persists coalesce and the
 * snapshot in staging is never more than one trigger old. A trigger with too little free space in staging
 * takes no snapshot and says so; the loop never waits for the disk.
 *
 * <p>Agents' failures reach one error handler: one log line and {@link CheckpointListener#checkpointError};
 * an {@link Error} stops the pipeline, and the loop hears of it at its next call.
 */
public final class Checkpointer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Checkpointer.class);
    /** How long {@link #close()} lets the writer finish what is staged before leaving it to the next start. */
    private static final Duration DRAIN_TIMEOUT = Duration.ofMinutes(10);

    private final CheckpointFiles files;
    private final CheckpointPolicy policy;
    private final StagingQueue staging;
    private final CheckpointListener listener;
    private final CheckpointWriter writer;
    private final AgentRunner writerRunner;
    private final SnapshotCopier copier;
    private final AgentRunner copierRunner;
    private final ConcurrentSkipListSet<Long> unpersisted = new ConcurrentSkipListSet<>();
    private final Object progressLock = new Object();
    private final String unit;
    private long persistedStep;
    private long failedStep = -1;
    private volatile long stagedStep = -1;
    private volatile long doneSeq = -1;
    private Throwable failure;
    private volatile Throwable stopped;
    private PendingSnapshot inFlight;   // loop thread only
    private NonFiniteStateException nonFinite;   // loop thread only
    private CheckpointClaim claim;   // set by open, released last by close

    private Checkpointer(CheckpointFiles files, CheckpointPolicy policy, StagingQueue staging, long onDiskStep,
                         String unit, CheckpointListener listener, boolean writeHints) {
        this.files = files;
        this.policy = policy;
        this.unit = unit;
        this.staging = staging;
        this.listener = listener;
        this.persistedStep = onDiskStep;
        this.writer = new CheckpointWriter(staging, files, listener, new WriterProgress(), onDiskStep, unit, writeHints);
        this.writerRunner = new AgentRunner(idle(), this::onAgentError, null, writer);
        this.copier = new SnapshotCopier(staging, this::committed);
        this.copierRunner = new AgentRunner(idle(), this::onAgentError, null, copier);
    }

    /** Sleeps when there is no work (a hand-off unparks the thread at once): no core spent waiting. */
    private static IdleStrategy idle() {
        return new BackoffIdleStrategy(1, 1, 1_000, 200_000_000);
    }

    private static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Checks the checkpoint's paths and the staging directory and holds them for this process (an
     * {@link UnusablePathException} if unusable or held by another process; see {@link CheckpointClaim}), opens the
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
        Path stagingDir = config.resolvedStagingDir(stateBytes);
        CheckpointClaim claim = CheckpointClaim.take(files, stagingDir);
        try {
            Checkpointer c = start(config, files, stagingDir, policy, stateBytes, progressKey, listener, writeHints);
            c.claim = claim;
            return c;
        } catch (IOException | RuntimeException | Error e) {
            claim.close();
            throw e;
        }
    }

    private static Checkpointer start(CheckpointConfig config, CheckpointFiles files, Path stagingDir,
                                      CheckpointPolicy policy, long stateBytes, String progressKey,
                                      CheckpointListener listener, boolean writeHints) throws IOException {
        long onDisk = CheckpointLoader.peekProgress(files.path(), progressKey);
        String unit = "block".equals(progressKey) ? "block" : "step";
        Checkpointer c = new Checkpointer(files, policy, StagingQueue.open(stagingDir, stateBytes), onDisk, unit,
                listener, writeHints);
        LOG.info("checkpoints: {} (backups {}, every {} {}s), staging in {}", files.path(), config.keepBackups(),
                policy.interval(), unit, stagingDir);
        AgentRunner.startOnThread(c.writerRunner, daemon("checkpoint-writer"));
        try {
            c.writer.awaitRecovery();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            c.writerRunner.close();
            throw new IOException("interrupted while recovering staged snapshots", e);
        }
        policy.startFrom(c.persistedStep());
        AgentRunner.startOnThread(c.copierRunner, daemon("checkpoint-copier"));
        return c;
    }

    public Path path() {
        return files.path();
    }

    /**
     * Tells the policy the progress the loop resumed at: when it came from a backup or a fetched file, the file
     * at the checkpoint path did not say it, and the first trigger would otherwise come right after the resume.
     */
    public void resumedAt(long progress) {
        policy.resumedAt(progress);
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
     * Snapshots {@code source} as the state of {@code step} now, whatever the policy's interval: captures its
     * tree on this thread and hands it to the copier, which releases the source once its storages are copied.
     * Returns false if staging has no room for it (the reason is logged and reported; the source is released).
     */
    public boolean snapshot(long step, StateSource source) {
        awaitStaging();
        checkRunning();
        String gone = recreateStagingIfGone();
        if (gone != null) {
            source.release();
            return skip(step, gone);
        }
        LOG.info("checkpoint scheduled: {} {}", unit, step);
        long triggered = System.nanoTime();
        Object tree;
        long total = 0;
        try {
            tree = source.tree();
            for (PthStorage s : source.storages()) {
                total += s.nbytes();
            }
        } catch (RuntimeException e) {
            source.release();
            throw e;
        }
        String refusal = policy.refusal(staging.usableSpace(), total);
        if (refusal != null) {
            source.release();
            return skip(step, refusal);
        }
        PendingSnapshot pending = new PendingSnapshot(step, tree, source, total);
        copier.submit(pending);
        LockSupport.unpark(copierRunner.thread());
        pending.loopNanos = System.nanoTime() - triggered;
        inFlight = pending;
        return true;
    }

    /**
     * Waits until the storages of the snapshot in progress, if any, are copied: the loop calls it right before
     * it next mutates its state (miner: before the optimizer update; validator: before applying a window).
     */
    public void awaitStaging() {
        PendingSnapshot s = inFlight;
        if (s == null) {
            return;
        }
        inFlight = null;
        long waitFrom = System.nanoTime();
        s.await();
        long waited = System.nanoTime() - waitFrom;
        if (s.failure() instanceof NonFiniteStateException diverged) {
            nonFinite = diverged;   // the loop stops: nothing newer than the last finite checkpoint is saved
            listener.snapshotSkipped(s.step, diverged.getMessage());
            return;
        }
        if (s.failure() != null) {
            skip(s.step, "the snapshot failed: " + Failures.oneLine(s.failure()));
            return;
        }
        // What the loop paid: capturing the tree at the trigger, and waiting here.
        listener.snapshotTaken(s.step, s.bytes, s.loopNanos + waited);
    }

    /**
     * If the staging directory was deleted while running, creates it again (locked anew) with a fresh queue, so
     * checkpointing goes on, and says so; no copy is in flight here. Returns why not, if it cannot.
     */
    private String recreateStagingIfGone() {
        if (!staging.directoryGone()) {
            return null;
        }
        LOG.error("STAGING DIRECTORY {} WAS DELETED while running: recreating it with a fresh queue; snapshots it "
                + "held and had not persisted are lost, checkpoint files are not affected", staging.dir());
        try {
            claim.retakeStaging();
            staging.reopen();
            unpersisted.clear();   // what the old directory held is gone; the writer may still finish its persist
            return null;
        } catch (IOException | RuntimeException e) {
            return "the staging directory " + staging.dir() + " was deleted and cannot be recreated: "
                    + Failures.oneLine(e);
        }
    }

    /** Copier thread: a snapshot's COMMIT is in staging; the one waiting before it is superseded. */
    private void committed(PendingSnapshot s) {
        unpersisted.add(s.seq());
        if (s.seq() <= doneSeq) {
            unpersisted.remove(s.seq());   // the writer was quicker than this line
        }
        staging.dropSuperseded(s.seq()).forEach(unpersisted::remove);
        stagedStep = s.step;
        LOG.info(String.format(Locale.ROOT, "checkpoint snapshot done: %s %d, %s, copied in %.1f ms", unit, s.step,
                Sizes.human(s.bytes), s.copyNanos() / 1e6));
        writer.committed();
        LockSupport.unpark(writerRunner.thread());
    }

    private boolean skip(long step, String reason) {
        LOG.warn("checkpoint at {} {} skipped: {}; the next trigger tries again", unit, step, reason);
        listener.snapshotSkipped(step, reason);
        return false;
    }

    /** Every failure of an agent comes here: one line, one count; an Error stops the pipeline. */
    private void onAgentError(Throwable t) {
        LOG.error("checkpoint pipeline: {} ({})", Failures.oneLine(t), t.getClass().getSimpleName());
        listener.checkpointError(t);
        if (t instanceof Error) {
            stopped = t;
            synchronized (progressLock) {
                progressLock.notifyAll();
            }
        }
    }

    private void checkRunning() {
        Throwable t = stopped;
        if (t != null) {
            throw new IllegalStateException("the checkpoint pipeline has stopped: " + Failures.oneLine(t), t);
        }
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
                if (stopped != null) {
                    throw new IOException("the checkpoint pipeline has stopped: " + Failures.oneLine(stopped),
                            stopped);
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
     * For a graceful stop: makes sure the state of {@code step} is on disk, waiting for its copy and its persist
     * (at most {@code timeout}, and no longer once the pipeline reports a failure).
     */
    public void checkpointAndWait(long step, StateSource source, Duration timeout)
            throws IOException, InterruptedException {
        awaitStaging();
        if (stagedStep < step && persistedStep() < step) {
            boolean taken = snapshot(step, source);
            awaitStaging();
            if (!taken || stagedStep < step) {
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

    /**
     * Loop thread, after {@link #awaitStaging()}: the reason a snapshot was refused for NaN or infinite values
     * (the run diverged), or null. No snapshot of such a state is ever committed.
     */
    public NonFiniteStateException nonFinite() {
        return nonFinite;
    }

    /** The step of the newest checkpoint persisted (or found on disk at start), -1 if none. */
    public long persistedStep() {
        synchronized (progressLock) {
            return persistedStep;
        }
    }

    /**
     * Waits for a copy in flight, lets the writer finish what is staged (at most {@link #DRAIN_TIMEOUT}), then
     * stops both agents; the staging memory is given back unless a committed snapshot could not be persisted.
     */
    @Override
    public void close() throws InterruptedException {
        try {
            awaitStaging();
            copierRunner.close();
            writer.drain();
            LockSupport.unpark(writerRunner.thread());
            Thread writerThread = writerRunner.thread();
            if (writerThread != null) {
                writerThread.join(DRAIN_TIMEOUT.toMillis());
            }
            writerRunner.close(1000, stuck -> LOG.error("checkpoint writer still busy after {}; what it has not "
                    + "persisted stays staged for the next start", DRAIN_TIMEOUT));
            if (persistedStep() >= stagedStep && stopped == null) {
                staging.closeAndClear();
            } else {
                // keep what was committed but not persisted: the next start persists it
                staging.close();
            }
        } finally {
            claim.close();
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
    }
}
