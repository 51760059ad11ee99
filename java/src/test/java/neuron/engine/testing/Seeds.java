package neuron.engine.testing;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

/**
 * A test's random seed: the system property's value when set, a new one otherwise. With
 * {@code @ExtendWith(Seeds.class)} on the test class, a failure's message ends with the seed and the
 * {@code -D} that repeats the run.
 */
public final class Seeds implements TestExecutionExceptionHandler {
    private static final ThreadLocal<String> TAKEN = new ThreadLocal<>();

    /** The seed of this test: {@code -Dproperty=…} when given, else one from the clock. */
    public static long of(String property) {
        long seed = Long.getLong(property, System.nanoTime());
        TAKEN.set("random seed " + seed + ", -D" + property + "=" + seed + " repeats it");
        return seed;
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable thrown) throws Throwable {
        String seed = TAKEN.get();
        TAKEN.remove();
        if (seed == null || !(thrown instanceof AssertionError)) {
            throw thrown;
        }
        AssertionError told = new AssertionError(thrown.getMessage() + " (" + seed + ")", thrown.getCause());
        told.setStackTrace(thrown.getStackTrace());
        throw told;
    }
}
