package neuron.engine.demo;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Says what the demo does, in plain words, as it goes; keeps every line for the summary file. */
final class Narrator {
    private final PrintWriter out;
    private final long startNanos = System.nanoTime();
    private final List<String> lines = new ArrayList<>();

    Narrator(PrintWriter out) {
        this.out = out;
    }

    void say(String text) {
        String line = String.format(Locale.ROOT, "[%5.1f s] %s", elapsedSeconds(), text);
        lines.add(line);
        out.println(line);
        out.flush();
    }

    double elapsedSeconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    List<String> lines() {
        return List.copyOf(lines);
    }
}
