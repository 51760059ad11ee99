package neuron.engine.checkpoint;

import neuron.engine.nativeio.NativeFile;
import neuron.engine.nativeio.NativeIOException;
import neuron.engine.pth.Pickled;
import neuron.engine.pth.PthStorage;
import neuron.engine.pth.PthWriter;
import neuron.engine.staging.StagingQueue;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentTerminationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * The writer agent: persists the newest committed snapshot into {@code <checkpoint>.tmp} as a torch.save
 * archive, fsyncs it, installs it over the checkpoint (the previous one becomes a backup) and gives the
 * snapshot's staging memory back; with nothing to persist, it populates the pages the next snapshot will be
 * copied into. A failed persist is logged with its cause and reported; the previous checkpoint stays, and the
 * next snapshot tries again. Anything else that goes wrong reaches the runner's error handler.
 *
 * <p>Its duty cycle runs when the copier commits a snapshot ({@link #committed}) and otherwise sleeps; on start
 * it persists what a previous process committed but did not persist.
 */
final class CheckpointWriter implements Agent {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointWriter.class);
    private static final long SLACK = 1L << 20;

    private final StagingQueue staging;
    private final CheckpointFiles files;
    private final CheckpointListener listener;
    private final Progress progress;
    private final boolean writeHints;
    private final CountDownLatch recovered = new CountDownLatch(1);
    private final String unit;
    private volatile long committed;
    private volatile boolean draining;
    private long seen;
    private boolean recovering = true;
    private long floorStep;

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

    @Override
    public String roleName() {
        return "checkpoint-writer";
    }

    @Override
    public void onStart() {
        try {
            persistNewest();
        } finally {
            recovering = false;
            recovered.countDown();
        }
    }

    /** Waits until a snapshot left committed by a previous process, if any, is persisted. */
    void awaitRecovery() throws InterruptedException {
        recovered.await();
    }

    /** Tells the writer a snapshot was committed (the caller then wakes its thread). */
    void committed() {
        committed++;
    }

    /** Asks the writer to persist what is committed and then stop ({@link AgentTerminationException}). */
    void drain() {
        draining = true;
    }

    @Override
    public int doWork() {
        boolean finishing = draining;   // read before the commit count, so nothing committed before it is missed
        long now = committed;
        if (now != seen) {
            seen = now;
            return persistNewest() ? 1 : 0;
        }
        if (finishing) {
            throw new AgentTerminationException(true);
        }
        if (!staging.populated()) {
            staging.populateOpenCycle();
            return 1;
        }
        return 0;
    }

    /** Persists the newest committed snapshot, if there is one; returns whether there was. */
    boolean persistNewest() {
        Optional<StagingQueue.Committed> found = staging.claimNewest();
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
        files.discardTemporary();
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
        } catch (NativeIOException e) {
            if (e.errno() == NativeIOException.ENOSPC) {
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
    }
}
