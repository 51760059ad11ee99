package neuron.engine.checkpoint;

import neuron.engine.nativeio.NativeFile;
import neuron.engine.pth.Pickled;
import neuron.engine.pth.PthStorage;
import neuron.engine.pth.PthWriter;
import neuron.engine.staging.StagingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The writer thread: tails the staging queue and turns the newest committed snapshot into
 * {@code <checkpoint>.tmp} as a torch.save archive, fsyncs it, installs it over the checkpoint (the previous one
 * becomes a backup) and gives the snapshot's staging memory back. A failure is logged with its cause; the
 * previous checkpoint stays, and the next snapshot tries again.
 */
final class CheckpointWriter implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointWriter.class);
    private static final long SLACK = 1L << 20;

    private final StagingQueue staging;
    private final CheckpointFiles files;
    private final CheckpointListener listener;
    private final Progress progress;
    private final boolean writeHints;
    private final Semaphore wakeUp = new Semaphore(0);
    private final CountDownLatch recovered = new CountDownLatch(1);
    private volatile boolean stopping;
    private boolean recovering = true;
    private long floorStep;
    private final String unit;

    /** @param onDiskStep the step of the checkpoint on disk: staged snapshots not newer than it are discarded */
    CheckpointWriter(StagingQueue staging, CheckpointFiles files, CheckpointListener listener, Progress progress,
                     long onDiskStep, String unit, boolean writeHints) {
        this.unit = unit;
        this.staging = staging;
        this.files = files;
        this.listener = listener;
        this.progress = progress;
        this.floorStep = onDiskStep;
        this.writeHints = writeHints;
    }

    /** Waits until a snapshot left committed by a previous process, if any, is persisted. */
    void awaitRecovery() throws InterruptedException {
        recovered.await();
    }

    /** Tells the writer a snapshot was committed. */
    void wake() {
        wakeUp.release();
    }

    /** Finishes what is staged, then returns from {@link #run()}. */
    void stop() {
        stopping = true;
        wakeUp.release();
    }

    @Override
    public void run() {
        try {
            persistNewestGuarded();
            recovering = false;
            recovered.countDown();
            while (true) {
                wakeUp.tryAcquire(200, TimeUnit.MILLISECONDS);
                wakeUp.drainPermits();
                boolean persisted = persistNewestGuarded();
                if (!persisted) {
                    if (stopping) {
                        return;
                    }
                    staging.populateOpenCycle();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Error e) {
            LOG.error("checkpoint writer stopped: {}", Failures.oneLine(e), e);
            progress.writerDied(e);
        } finally {
            recovered.countDown();
        }
    }

    /** As {@link #persistNewest}, but a failure of the staging queue itself is logged and tried again later. */
    private boolean persistNewestGuarded() throws InterruptedException {
        try {
            return persistNewest();
        } catch (RuntimeException e) {
            LOG.error("checkpoint writer: cannot read the staging queue {}: {}", staging.dir(), Failures.oneLine(e));
            Thread.sleep(1000);
            return false;
        }
    }

    /** Persists the newest committed snapshot, if there is one; returns whether there was. */
    boolean persistNewest() {
        Optional<StagingQueue.Committed> found = staging.newestCommitted();
        if (found.isEmpty()) {
            return false;
        }
        StagingQueue.Committed snapshot = found.get();
        if (snapshot.step() <= floorStep) {
            LOG.info("staged snapshot of {} {} is not newer than the checkpoint on disk ({}); discarded",
                    unit, snapshot.step(), floorStep);
            staging.release(snapshot.seq());
            progress.persisted(snapshot.seq(), floorStep);
            return true;
        }
        try {
            long started = System.nanoTime();
            long size = persist(snapshot);
            long took = System.nanoTime() - started;
            LOG.info(String.format(Locale.ROOT, "checkpoint persisted%s: %s %d -> %s (%s, %.2f s, %.0f MB/s)",
                    recovering ? " (staged by the previous process, recovered)" : "", unit, snapshot.step(),
                    files.path(), Sizes.human(size), took / 1e9, size / 1e6 / Math.max(took / 1e9, 1e-9)));
            floorStep = snapshot.step();
            staging.release(snapshot.seq());
            listener.persisted(snapshot.step(), files.path(), size, took);
            progress.persisted(snapshot.seq(), snapshot.step());
        } catch (IOException | RuntimeException e) {
            // The snapshot stays staged: a newer one that persists releases it, else the next start retries it.
            files.discardTemporary();
            LOG.error("checkpoint at {} {} NOT persisted: {}; {}; the next snapshot tries again", unit,
                    snapshot.step(), Failures.oneLine(e), files.onDisk());
            listener.persistFailed(snapshot.step(), e);
            progress.failed(snapshot.seq(), snapshot.step(), e);
        }
        return true;
    }

    /** Streams one snapshot into the checkpoint file; returns the file's size. */
    private long persist(StagingQueue.Committed snapshot) throws IOException {
        Pickled pickled = Pickled.parse(files.path(), snapshot.metadata());
        List<PthStorage> storages = pickled.storages();
        long[] sizes = snapshot.storageBytes();
        if (storages.size() != sizes.length) {
            throw new IOException("staged snapshot " + snapshot.step() + " describes " + storages.size()
                    + " storages but holds " + sizes.length);
        }
        Path tmp = files.temporary();
        try (NativeFile file = NativeFile.create(tmp)) {
            reserve(file, snapshot.totalBytes() + pickled.bytes().length + SLACK);
            HintedFileSink sink = new HintedFileSink(file, writeHints);
            PthWriter writer = new PthWriter(sink, PthWriter.archiveName(files.path()), pickled);
            int[] next = {0};
            staging.stream(snapshot, (storage, offset, bytes) -> {
                while (next[0] <= storage) {
                    writer.beginStorage(storages.get(next[0]++));
                }
                writer.writeStorageBytes(bytes);
            });
            while (next[0] < storages.size()) {
                writer.beginStorage(storages.get(next[0]++));
            }
            writer.finish();
            file.fsync();
            sink.dropRest();
            long size = file.position();
            file.close();
            files.install();
            return size;
        }
    }

    /** Reserves the file's blocks so a full disk fails now; file systems without fallocate just go on. */
    private static void reserve(NativeFile file, long bytes) throws IOException {
        try {
            file.reserve(bytes);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("No space left")) {
                throw e;
            }
            LOG.debug("no space reservation: {}", e.getMessage());
        }
    }

    /** What the loop's thread learns from the writer thread. */
    interface Progress {
        /** Every snapshot up to {@code seq} is done with; the checkpoint of {@code step} is on disk. */
        void persisted(long seq, long step);

        /** Every snapshot up to {@code seq} is done with; the one of {@code step} failed. */
        void failed(long seq, long step, Throwable cause);

        void writerDied(Throwable cause);
    }
}
