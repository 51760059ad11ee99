package neuron.engine.testing;

import org.junit.jupiter.api.Tag;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A test that starts processes (a child JVM, PyTorch, Node, an S3 server) or trains for minutes. README's
 * {@code mvn -B verify} runs it; the fast tier, {@code mvn -B verify -DexcludedGroups=slow}, leaves it out.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("slow")
public @interface Slow {
}
