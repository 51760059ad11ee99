package neuron.bench;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;

/**
 * A benchmark's {@link Pipeline} (opened by the subclass's trial setup): after each invocation it waits until
 * the last snapshot is on disk, outside the measurement, so the next snapshot is never skipped and never
 * competes with the writer; after the trial it is closed.
 */
public abstract class PipelineState {
    Pipeline pipeline;

    @TearDown(Level.Invocation)
    public void awaitPersisted() throws IOException, InterruptedException {
        pipeline.awaitPersisted();
    }

    @TearDown(Level.Trial)
    public void close() throws IOException, InterruptedException {
        pipeline.close();
    }
}
