package neuron.engine.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A directory whose files go along with every checkpoint version (the validator's block journal and the
 * submissions it archived), so a new machine gets them back with the checkpoint.
 *
 * @param name    its name in the manifest
 * @param include which of its files belong in a copy; names starting with '.' (files in progress) never do
 */
public record Companion(String name, Path dir, Predicate<Path> include) {
    public Companion {
        if (!Manifest.safePath(name) || name.equals(Manifest.CHECKPOINT) || name.contains("/")) {
            throw new IllegalArgumentException("companion name " + name);
        }
        dir = dir.toAbsolutePath().normalize();
    }

    /** Its files now, in path order. */
    List<Path> files() throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile)
                    .filter(p -> Manifest.safePath(relative(p)) && include.test(p))
                    .sorted().toList();
        }
    }

    /** Whether it holds no file that belongs in a copy: then a restore may fill it. */
    boolean isEmpty() throws IOException {
        return files().isEmpty();
    }

    /** The '/'-separated path of {@code file} inside the directory. */
    String relative(Path file) {
        return dir.relativize(file).toString().replace(java.io.File.separatorChar, '/');
    }
}
