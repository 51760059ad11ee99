package neuron.engine.eval;

import neuron.engine.checkpoint.TensorTrees;
import neuron.engine.pth.PyOrderedDict;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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

    private final Path dir;

    public SubmissionStore(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
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
