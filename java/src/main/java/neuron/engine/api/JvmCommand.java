package neuron.engine.api;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a child JVM that runs {@code mainClass} as this JVM runs the engine: the same {@code java},
 * this JVM's flags (the opens and exports the engine needs, its system properties) and classpath, then the
 * child's own JVM flags. A debugger or agent of this JVM is not passed on: it would clash (a port) or slow the
 * child down.
 *
 * @param jvmArgs   JVM flags of the child's own, after this JVM's (the later flag wins)
 * @param mainClass the class whose {@code main} the child runs
 */
public record JvmCommand(List<String> jvmArgs, String mainClass) {
    private static final List<String> NOT_INHERITED = List.of("-agentlib", "-agentpath", "-javaagent", "-Xrunjdwp",
            "-Xdebug");

    public JvmCommand {
        jvmArgs = List.copyOf(jvmArgs);
    }

    /** A child that runs {@code mainClass} with this JVM's flags only. */
    public static JvmCommand of(Class<?> mainClass) {
        return new JvmCommand(List.of(), mainClass.getName());
    }

    /** The same child with {@code more} JVM flags after its own. */
    public JvmCommand withJvmArgs(List<String> more) {
        List<String> all = new ArrayList<>(jvmArgs);
        all.addAll(more);
        return new JvmCommand(all, mainClass);
    }

    /** {@code java <this JVM's flags> <jvmArgs> -cp <classpath> <mainClass> <args>}. */
    public List<String> line(List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(arg -> NOT_INHERITED.stream().noneMatch(arg::startsWith)).forEach(cmd::add);
        cmd.addAll(jvmArgs);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(args);
        return cmd;
    }
}
