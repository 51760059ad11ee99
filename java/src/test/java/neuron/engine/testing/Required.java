package neuron.engine.testing;

import org.opentest4j.TestAbortedException;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * What a test needs from outside the JVM (PyTorch, Node packages, a pseudo-terminal). On a developer's machine a
 * missing tool skips the test with the reason; where {@code NEURON_REQUIRE_TOOLS=1} is set (CI sets it), it fails
 * the test, so a check that no longer runs can never pass unnoticed.
 */
public final class Required {
    /** Whether a missing tool fails tests instead of skipping them. */
    public static final boolean STRICT = "1".equals(System.getenv("NEURON_REQUIRE_TOOLS"))
            || Boolean.getBoolean("neuron.requireTools");

    private Required() {
    }

    /** Skips (or, strict, fails) the calling test unless {@code present}; {@code missing} says what is missing. */
    public static void tool(boolean present, String missing) {
        tool(present, missing, STRICT);
    }

    static void tool(boolean present, String missing, boolean strict) {
        if (present) {
            return;
        }
        if (strict) {
            fail(missing + " (NEURON_REQUIRE_TOOLS=1: a test that cannot run fails)");
        }
        throw new TestAbortedException(missing + ": test skipped");
    }
}
