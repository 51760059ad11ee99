package neuron.bench;

import org.bytedeco.javacpp.BytePointer;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/** Native memory of the state's size, written once before measuring so every page is resident. */
@State(Scope.Benchmark)
public class TouchedMemory {
    private BytePointer memory;

    @Setup(Level.Trial)
    public void touch(StateTree state) {
        memory = new BytePointer(state.bytes);
        memory.fill(1);
    }

    @TearDown(Level.Trial)
    public void free() {
        memory.close();
    }

    long address() {
        return memory.address();
    }
}
