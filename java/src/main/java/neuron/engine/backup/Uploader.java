package neuron.engine.backup;

import neuron.engine.checkpoint.CheckpointLoader;
import neuron.engine.checkpoint.Sizes;
import neuron.engine.nativeio.NativeFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The uploader agent: turns each persisted checkpoint into a complete version in the store, in the background.
 * A version is its files (the checkpoint, then the companions' files, each unchanged one reusing its object from
 * the version before), then its manifest, then the {@value Manifest#LATEST} pointer, then retention: the newest
 * {@code keep} versions stay, everything else under the versions folder goes (leftovers of cut-off uploads too).
 *
 * <p>Policy, as for the local writer: the newest persisted checkpoint wins. While one uploads at most one waits;
 * a newer persist replaces the waiting one, and a version whose upload failed is retried with exponential backoff
 * until it succeeds or a newer one replaces it. Nothing here ever blocks the loop or touches the local files: a
 * job holds its checkpoint open, so the local rotation may rename or delete it meanwhile.
 */
final class Uploader implements AgentRunner.Agent {
    private static final Logger LOG = LoggerFactory.getLogger(Uploader.class);
    private static final long FIRST_RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long MAX_RETRY_NANOS = TimeUnit.SECONDS.toNanos(60);

    /** A persisted checkpoint to upload: its file, held open, and its progress. */
    record Job(long progress, String name, FileChannel file) implements AutoCloseable {
        static Job open(long progress, Path file) throws IOException {
            return new Job(progress, file.getFileName().toString(), NativeFile.openChannel(file));
        }

        @Override
        public void close() {
            try {
                file.close();
            } catch (IOException ignored) {
                // read-only: nothing is lost
            }
        }
    }

    private final ObjectStore store;
    private final String progressKey;
    private final int keep;
    private final List<Companion> companions;
    private final Path checkpoint;
    private final BackupListener listener;
    private final AtomicReference<Job> waiting = new AtomicReference<>();
    private final NavigableMap<Long, Manifest> remote = new TreeMap<>();
    private volatile boolean synced;
    private volatile Job current;
    private volatile boolean busy;
    private final Object idleLock = new Object();
    private int attempts;
    private volatile long retryAt;

    /**
     * @param checkpoint the local checkpoint: uploaded at start when it is newer than the store's newest version
     * @param keep       versions kept in the store
     */
    Uploader(ObjectStore store, String progressKey, int keep, List<Companion> companions, Path checkpoint,
             BackupListener listener) {
        this.store = store;
        this.progressKey = progressKey;
        this.keep = keep;
        this.companions = companions;
        this.checkpoint = checkpoint;
        this.listener = listener;
    }

    @Override
    public String roleName() {
        return "backup-uploader";
    }

    /** Hands over a persisted checkpoint; a job still waiting is replaced (the newest wins). */
    void offer(Job job) {
        Job replaced = waiting.getAndSet(job);
        if (replaced != null) {
            LOG.info("backup of {} {} replaced by the newer {} {} before it started", progressKey,
                    replaced.progress(), progressKey, job.progress());
            replaced.close();
        }
    }

    /** Whether every checkpoint handed over is uploaded (or none was). */
    private boolean idle() {
        return waiting.get() == null && current == null && !busy;
    }

    /** Ends a backoff: for a graceful stop, which tries once more at once. */
    void retryNow() {
        retryAt = 0;
    }

    /** Waits up to {@code timeout} until {@link #idle()}; returns whether it is. */
    boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (idleLock) {
            for (long left = timeout.toNanos(); !idle() && left > 0; left = deadline - System.nanoTime()) {
                idleLock.wait(Math.max(1, left / 1_000_000));
            }
            return idle();
        }
    }

    /** The progress of the upload in flight or waiting, -1 if none. */
    long pendingProgress() {
        Job w = waiting.get();
        Job c = current;
        return w != null ? w.progress() : c != null ? c.progress() : -1;
    }

    @Override
    public int doWork() throws Exception {
        long now = System.nanoTime();
        if (now < retryAt) {
            return 0;
        }
        busy = true;
        try {
            if (!synced) {
                sync();
                synced = true;
                return 1;
            }
            Job next = waiting.getAndSet(null);
            if (next != null) {
                if (current != null) {
                    LOG.info("backup of {} {} abandoned for the newer {} {}", progressKey, current.progress(),
                            progressKey, next.progress());
                    current.close();
                }
                current = next;
                attempts = 0;
            }
            if (current == null) {
                return 0;
            }
            upload(current);
            current.close();
            current = null;
            attempts = 0;
            return 1;
        } finally {
            busy = false;
            synchronized (idleLock) {
                idleLock.notifyAll();
            }
        }
    }

    /** The error handler: one line, a count, and the next attempt after a backoff. */
    void onError(Throwable t) {
        attempts++;
        long backoff = Math.min(MAX_RETRY_NANOS, FIRST_RETRY_NANOS << Math.min(attempts - 1, 16));
        retryAt = System.nanoTime() + backoff;
        Job job = current;
        String what = job == null ? "reading the backup's versions" : "backup of " + progressKey + " " + job.progress();
        LOG.warn("{} to {} failed (attempt {}): {}; retrying in {} s", what, store.target(), attempts,
                ObjectStore.oneLine(t), backoff / 1_000_000_000L);
        listener.uploadFailed(job == null ? -1 : job.progress(), t);
    }

    /** Learns which versions the store holds, and queues the local checkpoint if it is newer than all of them. */
    private void sync() throws IOException {
        remote.clear();
        for (S3Object object : store.list(Manifest.versions())) {
            String key = store.relative(object);
            if (Manifest.isManifest(key)) {
                try {
                    store.get(key, Manifest.MAX_BYTES).map(bytes -> parseQuietly(key, bytes))
                            .ifPresent(m -> remote.put(m.progress(), m));
                } catch (ObjectStore.DamagedObjectException e) {
                    LOG.warn("backup: {}", e.getMessage());
                }
            }
        }
        long newestRemote = remote.isEmpty() ? -1 : remote.lastKey();
        Object inode = Files.exists(checkpoint) ? Files.readAttributes(checkpoint, "unix:ino").get("ino") : null;
        if (inode == null || waiting.get() != null) {
            return;
        }
        Job job = Job.open(-1, checkpoint);
        long local = CheckpointLoader.peekProgress(checkpoint, progressKey, true);
        if (local > newestRemote && inode.equals(Files.readAttributes(checkpoint, "unix:ino").get("ino"))) {
            LOG.info("backup: the local checkpoint ({} {}) is newer than the backup's newest ({}); uploading it",
                    progressKey, local, newestRemote < 0 ? "none" : newestRemote);
            if (!waiting.compareAndSet(null, new Job(local, job.name(), job.file()))) {
                job.close();
            }
        } else {
            job.close();
        }
    }

    private Manifest parseQuietly(String key, byte[] bytes) {
        try {
            return Manifest.parse(key, bytes);
        } catch (ObjectStore.DamagedObjectException e) {
            LOG.warn("backup: {}; that version is not used", e.getMessage());
            return null;
        }
    }

    private void upload(Job job) throws IOException {
        // a version already in the store is uploaded again: one found damaged at a restore is mended this way
        long version = job.progress();
        long started = System.nanoTime();
        Map.Entry<Long, Manifest> before = remote.lowerEntry(version);
        Manifest previous = before == null ? null : before.getValue();
        List<Manifest.Entry> entries = new ArrayList<>();
        long size = job.file().size();
        String key = Manifest.versionPrefix(version) + job.name();
        entries.add(new Manifest.Entry(Manifest.CHECKPOINT, job.name(), key, size, size,
                store.upload(key, job.file(), size)));
        long sent = size;
        for (Companion companion : companions) {
            for (Path file : companion.files()) {
                Manifest.Entry entry = uploadCompanion(version, companion, file, previous);
                if (entry != null) {
                    sent += entry.key().startsWith(Manifest.versionPrefix(version)) ? entry.stored() : 0;
                    entries.add(entry);
                }
            }
        }
        Manifest manifest = new Manifest(Manifest.FORMAT, progressKey, version, entries);
        store.put(Manifest.manifestKey(version), manifest.toJson());
        remote.put(version, manifest);
        if (remote.lastKey() == version) {
            store.put(Manifest.LATEST, manifest.latestJson());
        }
        long took = System.nanoTime() - started;
        LOG.info(String.format(Locale.ROOT, "backup: %s %d uploaded to %s (%d files, %s sent, %.2f s)", progressKey,
                version, store.target(), entries.size(), Sizes.human(sent), took / 1e9));
        listener.uploaded(version, sent, took);
        retain();
    }

    /** One companion file: its object from the version before if unchanged, else a new one; null if it went. */
    private Manifest.Entry uploadCompanion(long version, Companion companion, Path file, Manifest previous)
            throws IOException {
        String path = companion.relative(file);
        try (FileChannel channel = NativeFile.openChannel(file)) {
            long size = channel.size();
            long stored = dataEnd(channel, size);
            Manifest.Entry before = previous == null ? null : previous.find(companion.name(), path);
            if (before != null && before.size() == size && before.stored() == stored
                    && before.sha256().equals(sha256(channel, stored))) {
                return before;
            }
            String key = Manifest.versionPrefix(version) + companion.name() + "/" + path;
            return new Manifest.Entry(companion.name(), path, key, size, stored, store.upload(key, channel, stored));
        } catch (NoSuchFileException gone) {
            return null;    // removed by retention meanwhile: it is older than every checkpoint kept
        }
    }

    /**
     * Drops versions beyond the newest {@code keep}, then every object no kept version refers to. A failure here
     * costs no version: the next upload's retention tries again.
     */
    private void retain() {
        try {
            sweep();
        } catch (IOException e) {
            LOG.warn("backup: removing old versions from {} failed: {}; the next upload tries again", store.target(),
                    ObjectStore.oneLine(e));
        }
    }

    private void sweep() throws IOException {
        while (remote.size() > keep) {
            long oldest = remote.firstKey();
            store.delete(Manifest.manifestKey(oldest));   // first: the version disappears as a whole
            remote.remove(oldest);
        }
        Set<String> live = new HashSet<>();
        for (Map.Entry<Long, Manifest> version : remote.entrySet()) {
            live.add(Manifest.manifestKey(version.getKey()));
            version.getValue().files().forEach(e -> live.add(e.key()));
        }
        int deleted = 0;
        for (S3Object object : store.list(Manifest.versions())) {
            String key = store.relative(object);
            if (!live.contains(key)) {
                store.delete(key);
                deleted++;
            }
        }
        if (deleted > 0) {
            LOG.info("backup: removed {} objects of versions older than the {} kept", deleted, keep);
        }
    }

    /** The length of the file without its trailing zero bytes. */
    static long dataEnd(FileChannel channel, long size) throws IOException {
        ByteBuffer block = ByteBuffer.allocate(1 << 16);
        for (long end = size; end > 0; ) {
            long start = Math.max(0, end - block.capacity());
            block.clear().limit((int) (end - start));
            while (block.hasRemaining() && channel.read(block, start + block.position()) >= 0) {
                // read the whole block
            }
            for (int i = block.position() - 1; i >= 0; i--) {
                if (block.get(i) != 0) {
                    return start + i + 1;
                }
            }
            end = start;
        }
        return 0;
    }

    private static String sha256(FileChannel channel, long length) throws IOException {
        MessageDigest sha = ObjectStore.digest("SHA-256");
        ByteBuffer block = ByteBuffer.allocate(1 << 20);
        for (long offset = 0; offset < length; ) {
            block.clear().limit((int) Math.min(block.capacity(), length - offset));
            int n = channel.read(block, offset);
            if (n < 0) {
                throw new IOException("the file shrank while read");
            }
            sha.update(block.flip());
            offset += n;
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** Closes what is still held: for a stop. */
    void release() {
        Job w = waiting.getAndSet(null);
        if (w != null) {
            w.close();
        }
        Job c = current;
        if (c != null) {
            c.close();
        }
    }
}
