package neuron.engine.network;

import neuron.engine.torch.TensorTrees;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The content-addressed store miners and validators share (a directory; the reference system uses a bucket):
 * each file is named by the SHA-256 of its bytes ({@code <hex>.pth}), put there before its hash is committed to
 * the chain. Nobody lists it; a file is found by the hash a commitment names.
 *
 * <p>A validator never evaluates a file in the store itself: it copies the bytes into its archive first (only
 * from a regular file, never through a link), checking their hash on the way, and evaluates the copy. Like the
 * block journal, the archive survives the validator's crash, not the machine's power loss. A hash it
 * could not get (no such file, not a regular file, other bytes, unreadable) gets a marker in the archive with the
 * reason, so that a replay of the same window finds it unavailable too, whatever the store holds by then.
 */
public final class SubmissionStore {
    private static final Logger LOG = LoggerFactory.getLogger(SubmissionStore.class);
    private static final String SUFFIX = ".pth";
    private static final String UNAVAILABLE = ".unavailable";
    /** Archived files this much older than the oldest checkpoint kept are pruned (a persist takes less). */
    private static final long PRUNE_MARGIN_MILLIS = 10 * 60 * 1000L;
    private static final int COPY_BUFFER = 1 << 20;

    private final Path dir;
    private final Path archive;
    private final boolean writesArchive;

    private SubmissionStore(Path dir, Path archive, boolean writesArchive) {
        this.dir = dir.toAbsolutePath().normalize();
        this.archive = archive == null ? null : archive.toAbsolutePath().normalize();
        this.writesArchive = writesArchive;
    }

    /** A store to put files into (a miner's, or a validator's for its aggregates). */
    public static SubmissionStore at(Path dir) {
        return new SubmissionStore(dir, null, false);
    }

    /** A validator's view: files it evaluates are copied into {@code archive} first. */
    public static SubmissionStore archiving(Path dir, Path archive) {
        return new SubmissionStore(dir, archive, true);
    }

    /** The replay tool's view: the archive is read, never written; what it lacks is read from the store in place. */
    public static SubmissionStore readOnly(Path dir, Path archive) {
        return new SubmissionStore(dir, archive, false);
    }

    public Path dir() {
        return dir;
    }

    /** Where the file with content {@code hash} lives in the store. */
    public Path path(Hash32 hash) {
        return dir.resolve(name(hash));
    }

    /**
     * Saves {@code tree} (CPU tensor leaves) as a torch.save file, installs it under its content hash (atomically,
     * so nobody sees half a file) and returns the hash. Equal trees give equal bytes, hence one file.
     */
    public Hash32 put(Map<?, ?> tree) throws IOException {
        Files.createDirectories(dir);
        // a fixed file name inside a private directory: the archive's inner folder name comes from it, so the
        // bytes (and so the hash) depend on the tree alone
        Path upload = Files.createTempDirectory(dir, ".upload-");
        Path file = upload.resolve("submission.pth");
        try {
            TensorTrees.save(file, tree);
            Hash32 hash;
            try {
                hash = hash(file, Long.MAX_VALUE);
            } catch (Submission.Rejected unreadable) {
                throw new IOException(file + ": " + unreadable.getMessage());
            }
            Files.move(file, path(hash), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return hash;
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(upload);
        }
    }

    /**
     * The file with content {@code hash}, at most {@code maxBytes} long, to evaluate: the validator's archived copy
     * (made now if there is none yet), or, for the replay tool, the store's file once its hash is checked.
     *
     * @throws Submission.Rejected why the file cannot be had; the same reason every later time
     */
    public Path fetch(Hash32 hash, long maxBytes) throws Submission.Rejected {
        Path archived = archive.resolve(name(hash));
        if (Files.isRegularFile(archived, LinkOption.NOFOLLOW_LINKS)) {
            return archived;
        }
        Path marker = archive.resolve(hash.toHex().substring(2) + UNAVAILABLE);
        if (Files.exists(marker, LinkOption.NOFOLLOW_LINKS)) {
            throw new Submission.Rejected(readMarker(marker));
        }
        try {
            return writesArchive ? copyIntoArchive(hash, maxBytes, archived) : verified(hash, maxBytes);
        } catch (Submission.Rejected e) {
            if (writesArchive) {
                writeMarker(marker, e.getMessage());
            }
            throw e;
        }
    }

    private Path copyIntoArchive(Hash32 hash, long maxBytes, Path archived) throws Submission.Rejected {
        Path source = regularSource(hash, maxBytes);
        Path incoming = null;
        try {
            Files.createDirectories(archive);
            incoming = Files.createTempFile(archive, ".incoming-", SUFFIX);
            try (FileChannel out = FileChannel.open(incoming, StandardOpenOption.WRITE)) {
                checkHash(hash, stream(source, maxBytes, out));
            }
            Files.move(incoming, archived, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Files.setLastModifiedTime(archived, FileTime.fromMillis(System.currentTimeMillis()));
            return archived;
        } catch (IOException e) {
            throw new Submission.Rejected("cannot copy it from the store: " + e.getMessage());
        } finally {
            deleteQuietly(incoming);
        }
    }

    /** The store's own file with content {@code hash}: a regular file of at most {@code maxBytes} with that hash. */
    public Path verified(Hash32 hash, long maxBytes) throws Submission.Rejected {
        Path source = regularSource(hash, maxBytes);
        checkHash(hash, hash(source, maxBytes));
        return source;
    }

    /** The store's file for {@code hash}, if it is a regular file (not a link, FIFO or device) of a bounded size. */
    private Path regularSource(Hash32 hash, long maxBytes) throws Submission.Rejected {
        Path source = path(hash);
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(source, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw new Submission.Rejected("no file " + source.getFileName() + " in the store");
        } catch (IOException e) {
            throw new Submission.Rejected("cannot read it: " + e.getMessage());
        }
        if (!attributes.isRegularFile()) {
            throw new Submission.Rejected(source.getFileName() + " in the store is "
                    + (attributes.isSymbolicLink() ? "a symbolic link" : "not a regular file") + ": refused");
        }
        if (attributes.size() > maxBytes) {
            throw new Submission.Rejected("larger than " + maxBytes + " bytes");
        }
        return source;
    }

    private static void checkHash(Hash32 expected, Hash32 actual) throws Submission.Rejected {
        if (!expected.equals(actual)) {
            throw new Submission.Rejected("its bytes hash to " + actual + ", not to the committed " + expected);
        }
    }

    /** SHA-256 of a regular file's bytes (at most {@code maxBytes}), streamed. */
    private static Hash32 hash(Path file, long maxBytes) throws Submission.Rejected {
        try {
            return stream(file, maxBytes, null);
        } catch (IOException e) {
            throw new Submission.Rejected("cannot read it: " + e.getMessage());
        }
    }

    /** Streams a file's bytes (at most {@code maxBytes}) through SHA-256 and, unless null, into {@code copy}. */
    private static Hash32 stream(Path file, long maxBytes, FileChannel copy) throws IOException, Submission.Rejected {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            MessageDigest sha = ModelHash.sha256();
            ByteBuffer buf = ByteBuffer.allocateDirect(COPY_BUFFER);
            long read = 0;
            while (in.read(buf) >= 0) {
                read += buf.flip().remaining();
                if (read > maxBytes) {
                    throw new Submission.Rejected("larger than " + maxBytes + " bytes");
                }
                sha.update(buf.duplicate());
                while (copy != null && buf.hasRemaining()) {
                    copy.write(buf);
                }
                buf.clear();
            }
            return Hash32.of(sha.digest());
        }
    }

    private static String name(Hash32 hash) {
        return hash.toHex().substring(2) + SUFFIX;
    }

    private static String readMarker(Path marker) {
        try {
            return Files.readString(marker).strip() + " (as when first fetched)";
        } catch (IOException e) {
            return "unavailable when first fetched";
        }
    }

    private static void writeMarker(Path marker, String reason) {
        try {
            Files.createDirectories(marker.getParent());
            Path tmp = marker.resolveSibling(marker.getFileName() + ".tmp");
            Files.writeString(tmp, reason);
            Files.move(tmp, marker, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            LOG.warn("cannot record in {} that a submission was unavailable: {}", marker.getParent(), e.getMessage());
        }
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                LOG.debug("cannot delete {}: {}", file, e.getMessage());
            }
        }
    }

    /** Removes archived copies and markers made well before {@code oldestCheckpoint} was written. */
    public void pruneArchive(Path oldestCheckpoint) {
        if (archive == null || !Files.isDirectory(archive)) {
            return;
        }
        try (Stream<Path> files = Files.list(archive)) {
            long before = Files.getLastModifiedTime(oldestCheckpoint).toMillis() - PRUNE_MARGIN_MILLIS;
            files.filter(f -> f.getFileName().toString().endsWith(SUFFIX) || f.getFileName().toString().endsWith(UNAVAILABLE))
                    .forEach(f -> {
                        try {
                            if (Files.getLastModifiedTime(f, LinkOption.NOFOLLOW_LINKS).toMillis() < before) {
                                Files.delete(f);
                            }
                        } catch (IOException e) {
                            LOG.warn("cannot prune {}: {}", f, e.getMessage());
                        }
                    });
        } catch (IOException e) {
            LOG.warn("cannot prune the submission archive {}: {}", archive, e.getMessage());
        }
    }
}
