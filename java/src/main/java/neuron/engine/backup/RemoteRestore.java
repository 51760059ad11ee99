package neuron.engine.backup;

import neuron.engine.checkpoint.CheckpointFallback;
import neuron.engine.checkpoint.CheckpointFiles;
import neuron.engine.checkpoint.Sizes;
import neuron.engine.checkpoint.UnusablePathException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Start-up's fallback when no local checkpoint loads: the store's versions, newest first. Each version's
 * manifest is read and checked, its checkpoint downloaded into the checkpoint's path and its SHA-256 compared
 * with the manifest's, and each companion that is empty locally (a new machine) gets its files into a folder
 * beside it; anything that does not match makes the whole version unusable, and the next older one is tried. The
 * loader then loads the checkpoint like a local file; once it has, the companions' files are moved into place.
 */
final class RemoteRestore implements CheckpointFallback {
    private static final Logger LOG = LoggerFactory.getLogger(RemoteRestore.class);

    private final ObjectStore store;
    private final String progressKey;
    private final CheckpointFiles files;
    private final List<Companion> companions;
    private Deque<Long> versions;
    private Manifest fetched;

    RemoteRestore(ObjectStore store, String progressKey, CheckpointFiles files, List<Companion> companions) {
        this.store = store;
        this.progressKey = progressKey;
        this.files = files;
        this.companions = companions;
    }

    @Override
    public Optional<String> fetchNext(Path target) throws IOException {
        if (versions == null) {
            try {
                versions = listVersions();
            } catch (IOException e) {
                throw new IOException("no valid local checkpoint, and the backup " + store.target() + " cannot be "
                        + "asked for one (" + ObjectStore.oneLine(e) + "); start again once it is reachable, or "
                        + "without --backup to start fresh", e);
            }
            LOG.info("no valid local checkpoint: the backup {} holds {} versions", store.target(), versions.size());
        }
        discardDownloads();
        while (!versions.isEmpty()) {
            long version = versions.removeFirst();
            String where = store.target() + " " + progressKey + " " + version;
            try {
                Manifest manifest = Manifest.parse(Manifest.manifestKey(version),
                        store.get(Manifest.manifestKey(version), Manifest.MAX_BYTES)
                                .orElseThrow(() -> new ObjectStore.DamagedObjectException("its manifest is gone")));
                if (!progressKey.equals(manifest.progressKey())) {
                    throw new UnusablePathException("backup " + store.target() + " holds checkpoints ordered by '"
                            + manifest.progressKey() + "', not '" + progressKey + "': another role's backup; give "
                            + "this one a prefix of its own");
                }
                fetch(manifest.checkpoint(), target, true);
                for (Companion companion : companions) {
                    if (companion.isEmpty()) {
                        for (Manifest.Entry e : manifest.files()) {
                            if (e.root().equals(companion.name())) {
                                fetch(e, downloads(companion).resolve(e.path()), false);
                            }
                        }
                    }
                }
                fetched = manifest;
                return Optional.of(where);
            } catch (ObjectStore.DamagedObjectException e) {
                LOG.error("BACKUP VERSION {} CANNOT BE USED ({}); trying the next older one", where, e.getMessage());
                Files.deleteIfExists(target);   // a good checkpoint of a version whose companion is damaged
                discardDownloads();
            }
        }
        return Optional.empty();
    }

    @Override
    public void accepted() throws IOException {
        for (Companion companion : companions) {
            Path downloads = downloads(companion);
            if (!Files.isDirectory(downloads)) {
                continue;
            }
            int moved = 0;
            for (Manifest.Entry e : fetched.files()) {
                if (e.root().equals(companion.name())) {
                    Path to = companion.dir().resolve(e.path());
                    Files.createDirectories(to.getParent());
                    Files.move(downloads.resolve(e.path()), to, StandardCopyOption.ATOMIC_MOVE);
                    moved++;
                }
            }
            LOG.info("{} restored from the backup: {} files into {}", companion.name(), moved, companion.dir());
        }
        discardDownloads();
    }

    /** The versions with a manifest, newest first; the listing, not the latest pointer, is the truth. */
    private Deque<Long> listVersions() throws IOException {
        Deque<Long> out = new ArrayDeque<>();
        List<S3Object> objects = store.list(Manifest.versions());
        objects.stream().map(store::relative).filter(Manifest::isManifest).map(Manifest::versionOf)
                .sorted(Comparator.reverseOrder()).forEach(out::add);
        return out;
    }

    /**
     * Downloads one entry to {@code file} and checks it against the manifest; a sparse tail is restored. A
     * checkpoint that does not match is kept as {@code .corrupt} evidence, like a local one.
     */
    private void fetch(Manifest.Entry entry, Path file, boolean keepEvidence) throws IOException {
        Files.createDirectories(file.getParent());
        long free = Files.getFileStore(file.getParent()).getUsableSpace();
        if (entry.stored() > free) {
            throw new IOException("restoring " + entry.path() + " from the backup needs " + Sizes.human(entry.stored())
                    + ", " + file.getParent() + " has " + Sizes.human(free) + " free");
        }
        Path partial = file.resolveSibling(file.getFileName() + ".download");
        String problem;
        try {
            String sha = store.download(entry.key(), partial, entry.stored());
            problem = sha.equals(entry.sha256()) ? null : entry.key() + " has SHA-256 " + sha.substring(0, 12)
                    + "…, the manifest says " + entry.sha256().substring(0, 12) + "…";
        } catch (ObjectStore.DamagedObjectException e) {
            problem = e.getMessage();
        }
        if (problem != null) {
            String aside = "deleted";
            if (keepEvidence && Files.exists(partial)) {
                Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING);
                aside = "kept as " + files.moveAside(file);
            }
            Files.deleteIfExists(partial);
            throw new ObjectStore.DamagedObjectException(problem + "; the download was " + aside);
        }
        if (entry.size() > entry.stored()) {
            try (RandomAccessFile raf = new RandomAccessFile(partial.toFile(), "rw")) {
                raf.setLength(entry.size());
            }
        }
        Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static Path downloads(Companion companion) {
        return companion.dir().resolveSibling("." + companion.dir().getFileName() + ".download");
    }

    private void discardDownloads() throws IOException {
        for (Companion companion : companions) {
            Path dir = downloads(companion);
            if (Files.isDirectory(dir)) {
                try (Stream<Path> walk = Files.walk(dir)) {
                    for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
        }
    }
}
