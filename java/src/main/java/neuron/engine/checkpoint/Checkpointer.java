package neuron.engine.checkpoint;

import neuron.engine.nativeio.NativeMemory;
import neuron.engine.pth.Pickled;
import neuron.engine.pth.PthStorage;
import neuron.engine.staging.StagingQueue;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.function.Supplier;

import static org.bytedeco.pytorch.global.torch.from_blob;

/**
 * The asynchronous checkpoint pipeline of one loop: loop → snapshot → staging queue → writer → {@code .pth}.
 *
 * <p>{@link #snapshot} runs on the loop's thread between two steps, so no tensor changes while it is copied:
 * each state tensor's bytes are copied once, straight into the staging queue's mapped memory; that copy is the
 * loop's only pause. The writer thread persists the newest committed snapshot while the loop goes on.
 *
 * <p>Hand-off policy: at most one snapshot waits while another is being persisted. A trigger that finds one
 * already waiting, or too little free space in staging, takes no snapshot and says so; the loop never waits
 * for the disk and staging never grows without bound.
 */
public final class Checkpointer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Checkpointer.class);
    private static final int MAX_BACKLOG = 2;
    /** Threads of the snapshot copy: one copies as fast as two where memory bandwidth, not cores, is the limit. */
    private static final int COPY_THREADS = Integer.getInteger("neuron.copy.threads", 1);

    private final CheckpointFiles files;
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

    private Checkpointer(CheckpointFiles files, StagingQueue staging, long onDiskStep, String unit,
                         CheckpointListener listener, boolean writeHints) {
        this.files = files;
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
     * committed but did not persist, if it is newer than the checkpoint on disk, before returning.
     *
     * @param progressKey the tree key that orders checkpoints: {@code global_step} or {@code block}
     */
    public static Checkpointer open(CheckpointConfig config, long stateBytes, String progressKey,
                                    CheckpointListener listener) throws IOException {
        return open(config, stateBytes, progressKey, listener, true);
    }

    /** As {@link #open(CheckpointConfig, long, String, CheckpointListener)}; {@code writeHints} for benchmarks. */
    public static Checkpointer open(CheckpointConfig config, long stateBytes, String progressKey,
                                    CheckpointListener listener, boolean writeHints) throws IOException {
        CheckpointFiles files = config.files();
        files.checkWritable();
        Path stagingDir = config.resolvedStagingDir(stateBytes);
        CheckpointFiles.checkWritableDirectory(stagingDir, "staging directory");
        long onDisk = CheckpointLoader.peekProgress(files.path(), progressKey);
        String unit = "block".equals(progressKey) ? "block" : "step";
        Checkpointer c = new Checkpointer(files, StagingQueue.open(stagingDir, stateBytes), onDisk, unit, listener,
                writeHints);
        LOG.info("checkpoints: {} (backups {}), staging in {}", files.path(), config.keepBackups(), stagingDir);
        c.writerThread.start();
        try {
            c.writer.awaitRecovery();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while recovering staged snapshots", e);
        }
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
     * Takes a snapshot of {@code tree} (tensor leaves are live LibTorch tensors) for {@code step}, on the loop's
     * thread, and hands it to the writer. Returns false if the hand-off policy skipped it.
     */
    public boolean snapshot(long step, Map<String, Object> tree) {
        if (writerDeath != null) {
            throw new IllegalStateException("the checkpoint writer has stopped: "
                    + Failures.oneLine(writerDeath), writerDeath);
        }
        LOG.info("checkpoint scheduled: {} {}", unit, step);
        if (unpersisted.size() >= MAX_BACKLOG) {
            return skip(step, "one snapshot is being persisted and another is waiting");
        }
        long started = System.nanoTime();
        Map<PthStorage, Tensor> sources = new IdentityHashMap<>();
        Pickled pickled = Pickled.of(TensorTrees.describe(tree, sources));
        List<PthStorage> storages = pickled.storages();
        long[] sizes = new long[storages.size()];
        long total = 0;
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = storages.get(i).nbytes();
            total += sizes[i];
        }
        long free = staging.usableSpace();
        if (free < total + (total >> 3) + (1 << 20)) {
            return skip(step, "staging has " + Sizes.human(free) + " free, the snapshot needs " + Sizes.human(total));
        }
        long seq;
        try {
            seq = staging.stage(step, pickled.bytes(), sizes, i -> copier(sources.get(storages.get(i))));
        } catch (RuntimeException e) {
            return skip(step, "the snapshot failed: " + Failures.oneLine(e));
        } finally {
            // The copiers hold raw addresses only: the tensors must live until the copy is done.
            Reference.reachabilityFence(sources);
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

    private boolean skip(long step, String reason) {
        LOG.warn("checkpoint at {} {} skipped: {}; the next trigger tries again", unit, step, reason);
        listener.snapshotSkipped(step, reason);
        return false;
    }

    /** The copy of one tensor into staging: native memcpy from host memory, a device-to-host copy from CUDA. */
    private static StagingQueue.ChunkFiller copier(Tensor t) {
        if (t.is_cuda()) {
            Tensor bytes = t.view(ScalarType.Byte).reshape(-1);
            TensorOptions host = new TensorOptions(ScalarType.Byte);
            return (dst, offset, length) -> from_blob(NativeMemory.pointerAt(dst, length), new long[]{length}, host)
                    .copy_(bytes.narrow(0, offset, length));
        }
        long src = t.data_ptr().address();
        return (dst, offset, length) -> NativeMemory.copy(dst, src + offset, length, COPY_THREADS);
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
    public void checkpointAndWait(long step, Supplier<Map<String, Object>> tree, Duration timeout)
            throws IOException, InterruptedException {
        if (stagedStep < step && persistedStep() < step) {
            long deadline = System.nanoTime() + timeout.toNanos();
            synchronized (progressLock) {
                while (unpersisted.size() >= MAX_BACKLOG && writerDeath == null && System.nanoTime() < deadline) {
                    progressLock.wait(100);
                }
            }
            if (!snapshot(step, tree.get())) {
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
