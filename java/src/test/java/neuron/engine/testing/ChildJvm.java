package neuron.engine.testing;

import java.io.File;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import neuron.engine.api.JvmCommand;

/** Starts a second JVM with this JVM's classpath and flags: for crash, kill and clean-cache tests. */
public final class ChildJvm {
    private ChildJvm() {
    }

    /** The command line for {@code java <flags> <extraJvmArgs> -cp <classpath> mainClass args}. */
    public static List<String> command(List<String> extraJvmArgs, Class<?> mainClass, String... args) {
        return JvmCommand.of(mainClass).withJvmArgs(extraJvmArgs).line(List.of(args));
    }

    /** Starts the child with its output going to {@code log}. */
    public static Process start(List<String> command, File workDir, File log) throws IOException {
        return start(command, workDir, log, Map.of());
    }

    /** As {@link #start(List, File, File)}, with {@code env} added to the child's environment. */
    public static Process start(List<String> command, File workDir, File log, Map<String, String> env)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log));
        builder.environment().putAll(env);
        return builder.start();
    }
}
