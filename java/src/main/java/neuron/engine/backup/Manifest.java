package neuron.engine.backup;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What one backed-up version is: the checkpoint's progress and every file that belongs to it, each with where it
 * lies in the bucket, its length and its SHA-256. Written after its files and read before any of them, so a
 * version without a manifest (an upload cut off) is never used, and a manifest is checked as hostile input.
 *
 * @param progressKey {@code global_step} (a miner) or {@code block} (a validator)
 */
record Manifest(int format, String progressKey, long progress, List<Entry> files) {
    static final int FORMAT = 1;
    /** The largest manifest read: thousands of entries, not an object that fills the heap. */
    static final int MAX_BYTES = 4 << 20;
    static final String CHECKPOINT = "checkpoint";
    private static final String VERSIONS = "versions/";
    private static final String MANIFEST = "manifest.json";
    static final String LATEST = "latest";
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern VERSION_KEY = Pattern.compile("versions/(\\d{20})/.*");
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /**
     * One file of a version.
     *
     * @param root   {@value #CHECKPOINT}, or the name of a companion directory (e.g. {@code journal})
     * @param path   the file's path relative to its root, '/'-separated
     * @param key    the object (relative to the prefix); a file unchanged since an older version keeps its object
     * @param size   the file's length
     * @param stored the bytes stored: the file without its trailing zeros (a preallocated journal cycle is
     *               mostly zeros), which a restore writes back as a sparse tail
     */
    record Entry(String root, String path, String key, long size, long stored, String sha256) {
    }

    static String versionPrefix(long progress) {
        return VERSIONS + String.format(Locale.ROOT, "%020d/", progress);
    }

    static String manifestKey(long progress) {
        return versionPrefix(progress) + MANIFEST;
    }

    /** The folder holding every version's objects. */
    static String versions() {
        return VERSIONS;
    }

    /** The version a key under {@link #versions()} belongs to, -1 for any other key. */
    static long versionOf(String key) {
        var m = VERSION_KEY.matcher(key);
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    static boolean isManifest(String key) {
        return versionOf(key) >= 0 && key.equals(manifestKey(versionOf(key)));
    }

    byte[] toJson() {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The {@value #LATEST} pointer: which version is the newest complete one, for tools and people. */
    byte[] latestJson() {
        try {
            // Fields in a fixed order (Map.of iterates in an order that changes from one JVM to the next).
            java.util.Map<String, Object> latest = new java.util.LinkedHashMap<>();
            latest.put("format", FORMAT);
            latest.put("progress_key", progressKey);
            latest.put("progress", progress);
            latest.put("manifest", manifestKey(progress));
            return JSON.writeValueAsBytes(latest);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses and checks the manifest stored at {@code key}: anything malformed or unsafe is damaged. */
    static Manifest parse(String key, byte[] bytes) throws ObjectStore.DamagedObjectException {
        Manifest m;
        try {
            m = JSON.readValue(bytes, Manifest.class);
        } catch (java.io.IOException e) {
            throw new ObjectStore.DamagedObjectException(key + " is not a manifest: " + ObjectStore.oneLine(e));
        }
        String why = m.problem(versionOf(key));
        if (why != null) {
            throw new ObjectStore.DamagedObjectException(key + ": " + why);
        }
        return m;
    }

    private String problem(long version) {
        if (format != FORMAT) {
            return "format " + format + " is not " + FORMAT;
        }
        if (progress != version || progressKey == null || files == null || files.isEmpty()) {
            return "its version, progress or files do not fit";
        }
        long checkpoints = 0;
        for (Entry e : files) {
            if (e == null || e.root() == null || !safeName(e.root()) || e.path() == null || !safePath(e.path())
                    || e.key() == null || versionOf(e.key()) < 0 || e.key().contains("..")
                    || e.sha256() == null || !SHA256.matcher(e.sha256()).matches()
                    || e.size() < 0 || e.stored() < 0 || e.stored() > e.size()) {
                return "a file entry is malformed or unsafe: " + e;
            }
            checkpoints += CHECKPOINT.equals(e.root()) ? 1 : 0;
        }
        return checkpoints == 1 ? null : "it names " + checkpoints + " checkpoint files, not one";
    }

    /** A relative path that stays inside its root: no absolute path, no '..', no empty or hidden segment. */
    static boolean safePath(String path) {
        for (String segment : path.split("/", -1)) {
            if (!safeName(segment)) {
                return false;
            }
        }
        return true;
    }

    private static boolean safeName(String name) {
        return !name.isEmpty() && !name.startsWith(".") && !name.contains("\\") && !name.contains("\0")
                && name.length() <= 255;
    }

    Entry checkpoint() {
        return files.stream().filter(e -> CHECKPOINT.equals(e.root())).findFirst().orElseThrow();
    }

    /** The entry of {@code path} under {@code root}, or null. */
    Entry find(String root, String path) {
        return files.stream().filter(e -> e.root().equals(root) && e.path().equals(path)).findFirst().orElse(null);
    }
}
