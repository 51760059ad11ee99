package neuron.engine.eval;

import neuron.engine.chain.Hash32;
import neuron.engine.torch.TensorTrees;
import neuron.engine.pth.PyOrderedDict;
import org.bytedeco.pytorch.Tensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where miners publish their update of each window and validators find them: one {@code .pth} file per window
 * and uid ({@code w<window>-uid<uid>.pth}), written to a temporary name and renamed, so a reader never sees half
 * a file. A submission is {@code {'uid', 'window', 'block', 'delta': OrderedDict(name -> float32 tensor)}}: the
 * change of the miner's parameters over the window, made at {@code block}, a block inside the window.
 */
public final class SubmissionStore {
    private static final Pattern NAME = Pattern.compile("w(\\d+)-uid(\\d+)\\.pth");

    private static final Logger LOG = LoggerFactory.getLogger(SubmissionStore.class);
    /** Archived files this much older than the oldest checkpoint kept are pruned (a persist takes less). */
    private static final long PRUNE_MARGIN_MILLIS = 10 * 60 * 1000L;

    private final Path dir;
    private final Path archive;

    /** A store miners publish to. */
    public SubmissionStore(Path dir) {
        this(dir, null);
    }

    /**
     * A store a validator evaluates from. Each submission it evaluates is first archived in {@code archive}
     * under its content hash (a hard link, else a copy): a miner that later replaces its file, or an operator
     * who cleans the store, cannot change what a replay evaluates.
     */
    public SubmissionStore(Path dir, Path archive) {
        this.dir = dir.toAbsolutePath().normalize();
        this.archive = archive == null ? null : archive.toAbsolutePath().normalize();
    }

    /** A submission as archived for evaluation: its content hash and the stable file with that content. */
    public record Archived(Hash32 hash, Path file) {
    }

    /** Archives the current file of {@code uid} for {@code window}; a missing or unreadable one is rejected. */
    public Archived take(long window, int uid) throws Submission.Rejected {
        Path file = path(window, uid);
        Path incoming = archive.resolve(".incoming-" + uid + "-" + window);
        try {
            Files.createDirectories(archive);
            Files.deleteIfExists(incoming);
            try {
                Files.createLink(incoming, file);
            } catch (UnsupportedOperationException | FileSystemException noLink) {
                if (!Files.exists(file)) {
                    throw new Submission.Rejected("the file is gone");
                }
                Files.copy(file, incoming);
            }
            Hash32 hash = Submission.contentHash(incoming);
            Path stable = archived(hash);
            Files.move(incoming, stable, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.setLastModifiedTime(stable, FileTime.fromMillis(System.currentTimeMillis()));
            return new Archived(hash, stable);
        } catch (IOException e) {
            throw new Submission.Rejected("cannot archive it: " + e.getMessage());
        }
    }

    /** Where the submission with content {@code hash} is archived. */
    public Path archived(Hash32 hash) {
        return archive.resolve(hash.toHex().substring(2) + ".pth");
    }

    /** Removes archived submissions evaluated well before {@code oldestCheckpoint} was written. */
    public void pruneArchive(Path oldestCheckpoint) {
        if (archive == null || !Files.isDirectory(archive)) {
            return;
        }
        try (Stream<Path> files = Files.list(archive)) {
            long before = Files.getLastModifiedTime(oldestCheckpoint).toMillis() - PRUNE_MARGIN_MILLIS;
            files.filter(f -> f.getFileName().toString().endsWith(".pth")).forEach(f -> {
                try {
                    if (Files.getLastModifiedTime(f).toMillis() < before) {
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

    public Path dir() {
        return dir;
    }

    public Path path(long window, int uid) {
        return dir.resolve("w" + window + "-uid" + uid + ".pth");
    }

    /** Publishes a miner's update for {@code window}; {@code delta} holds CPU tensors by parameter name. */
    public Path publish(int uid, long window, long block, Map<String, Tensor> delta) throws IOException {
        Files.createDirectories(dir);
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("uid", (long) uid);
        tree.put("window", window);
        tree.put("block", block);
        tree.put("delta", new PyOrderedDict(delta));
        Path target = path(window, uid);
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        TensorTrees.save(tmp, tree);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return target;
    }

    /** The uids with a file for {@code window}, ascending. */
    public List<Integer> uids(long window) throws IOException {
        List<Integer> uids = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return uids;
        }
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(f -> {
                Matcher m = NAME.matcher(f.getFileName().toString());
                if (m.matches() && Long.parseLong(m.group(1)) == window) {
                    uids.add(Integer.parseInt(m.group(2)));
                }
            });
        }
        uids.sort(null);
        return uids;
    }
}
