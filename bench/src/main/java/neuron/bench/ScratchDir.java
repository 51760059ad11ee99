package neuron.bench;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.nio.file.Path;

/** A directory on the real disk for one trial's files, deleted with everything in it afterwards. */
@State(Scope.Benchmark)
public class ScratchDir {
    Path dir;

    @Setup(Level.Trial)
    public void create() throws IOException {
        dir = Disk.newScratchDir("jmh");
    }

    @TearDown(Level.Trial)
    public void delete() throws IOException {
        Disk.deleteTree(dir);
    }

    Path file(String name) {
        return dir.resolve(name);
    }
}
