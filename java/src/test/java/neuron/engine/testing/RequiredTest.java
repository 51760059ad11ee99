package neuron.engine.testing;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A missing tool skips a test on a developer's machine and fails it in CI. */
class RequiredTest {
    @Test
    void aMissingToolSkipsLeniently() {
        TestAbortedException skipped = assertThrows(TestAbortedException.class,
                () -> Required.tool(false, "no torch", false));
        assertTrue(skipped.getMessage().contains("no torch"));
    }

    @Test
    void aMissingToolFailsStrictly() {
        AssertionFailedError failed = assertThrows(AssertionFailedError.class,
                () -> Required.tool(false, "no torch", true));
        assertTrue(failed.getMessage().contains("no torch"));
    }

    @Test
    void aPresentToolPassesEitherWay() {
        assertDoesNotThrow(() -> Required.tool(true, "x", true));
        assertDoesNotThrow(() -> Required.tool(true, "x", false));
    }
}
