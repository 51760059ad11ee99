package neuron.engine.testing;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Starts a second JVM with this JVM's classpath and engine flags: for crash, kill and clean-cache tests. */
public final class ChildJvm {
    private ChildJvm() {
    }

    /** The command line for {@code java <flags> <extraJvmArgs> -cp <classpath> mainClass args}. */
    public static List<String> command(List<String> extraJvmArgs, Class<?> mainClass, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-") || arg.startsWith("--enable-native-access") || arg.startsWith("-Dchronicle.")
                    || arg.startsWith("-Dorg.bytedeco.")) {
                cmd.add(arg);
            }
        }
        cmd.addAll(extraJvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass.getName());
        cmd.addAll(List.of(args));
        return cmd;
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
