package neuron.engine.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The JVM settings the engine needs, checked where the library opens: Chronicle Queue reaches into the JDK's
 * file-channel and reflection internals, and without the opens and exports below it fails deep inside its own
 * start-up with an {@code AssertionError}. The check turns that into one line naming the flags that are missing.
 * System properties are applied here where they are not set, since nothing has read them yet.
 */
final class JvmFlags {
    /** {@code module/package} pairs that must be open to the engine, as {@code --add-opens} or manifest {@code Add-Opens}. */
    static final List<String> OPENS = List.of("java.base/java.lang", "java.base/java.lang.reflect",
            "java.base/java.io", "java.base/java.util", "java.base/java.nio", "java.base/sun.nio.ch");
    /**
     * {@code module/package} pairs that must be exported to the engine ({@code --add-exports}, {@code Add-Exports});
     * Chronicle's list also names {@code jdk.unsupported/sun.misc}, which that module exports to everyone.
     */
    static final List<String> EXPORTS = List.of("java.base/jdk.internal.ref", "java.base/sun.nio.ch");

    private JvmFlags() {
    }

    /**
     * Sets Chronicle's analytics off (no machine of ours may phone home) unless the application chose otherwise,
     * then throws {@link IllegalStateException} with one line if an open or export is missing.
     */
    static void check() {
        setIfAbsent("chronicle.analytics.disable", "true");
        setIfAbsent("chronicle.announcer.disable", "true");
        List<String> missing = missing();
        if (!missing.isEmpty()) {
            throw new IllegalStateException("the JVM lacks flags the engine's Chronicle Queue needs: "
                    + String.join(" ", missing) + " (pass them to java, or list them as Add-Opens/Add-Exports in "
                    + "the executable jar's manifest)");
        }
    }

    /** The flags missing from this JVM, as they would be written on the java command line. */
    static List<String> missing() {
        Module engine = JvmFlags.class.getModule();
        List<String> out = new ArrayList<>();
        for (String pair : OPENS) {
            module(pair).filter(m -> !m.isOpen(pkg(pair), engine))
                    .ifPresent(m -> out.add("--add-opens=" + pair + "=ALL-UNNAMED"));
        }
        for (String pair : EXPORTS) {
            module(pair).filter(m -> !m.isExported(pkg(pair), engine))
                    .ifPresent(m -> out.add("--add-exports=" + pair + "=ALL-UNNAMED"));
        }
        return out;
    }

    /** The module of a {@code module/package} pair, if this runtime has it (a trimmed runtime may not). */
    private static Optional<Module> module(String pair) {
        return ModuleLayer.boot().findModule(pair.substring(0, pair.indexOf('/')));
    }

    private static String pkg(String pair) {
        return pair.substring(pair.indexOf('/') + 1);
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
