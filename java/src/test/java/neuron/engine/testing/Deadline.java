package neuron.engine.testing;

import java.time.Duration;
import java.util.concurrent.Callable;

/** A test's wait that fails with a message, rather than hanging, once its patience is spent. */
public final class Deadline {
    private final Duration patience;
    private final long end;

    private Deadline(Duration patience) {
        this.patience = patience;
        this.end = System.nanoTime() + patience.toNanos();
    }

    public static Deadline in(Duration patience) {
        return new Deadline(patience);
    }

    /** Throws an AssertionError saying what was awaited (a log, say) once the patience is spent. */
    public void check(Callable<String> awaited) {
        if (System.nanoTime() - end > 0) {
            String what;
            try {
                what = awaited.call();
            } catch (Exception e) {
                what = "(what was awaited could not be told: " + e + ")";
            }
            throw new AssertionError("not within " + patience + ": " + what);
        }
    }
}
