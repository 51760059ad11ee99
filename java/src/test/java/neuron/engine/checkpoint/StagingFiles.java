package neuron.engine.checkpoint;

import java.io.File;
import java.nio.file.Path;

/** Counts a staging queue's cycle files. */
final class StagingFiles {
    private StagingFiles() {
    }

    static int count(Path dir) {
        File[] files = dir.toFile().listFiles((d, n) -> n.endsWith(".cq4"));
        return files == null ? 0 : files.length;
    }
}
